"""A week at a glance: the strip of the last 7 days and the grid of recent weeks, drawn as HTML.

The statuses and counts come from services.week_glance (analysis.day_statuses and
analysis.week_progress); this module only draws them. Every day shows a mark that is not
only a colour (a tick, a half disc, a cross...) and says its status in words to screen
readers; the strip fits a 390 px wide phone screen.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from backcare.present.html import esc
from backcare.present.text import DAY_STATUS_NOTE, DAY_STATUS_WORDS, week_progress_lines
from backcare.services import WeekGlance

__all__ = [
    "WEEK_CSS",
    "glance_html",
    "grid_html",
    "legend_html",
    "strip_block_html",
    "strip_html",
]

# mark, background, text colour (contrast >= 4.5:1 against the background)
LOOK = {
    "done": ("✓", "#188038", "#ffffff"),
    "partly": ("◐", "#e6f4ea", "#0d652d"),
    "missed": ("✗", "#fce8e6", "#a50e0e"),
    "rest": ("○", "#f1f3f4", "#3c4043"),
    "nothing": ("–", "#ffffff", "#5f6368"),
    "open": ("…", "#e8f0fe", "#174ea6"),
    "upcoming": ("", "#ffffff", "#5f6368"),
}

WEEK_CSS = """<style>
.backcare-week-strip { display:flex; gap:4px; list-style:none; padding:0; margin:6px 0;
  flex-wrap:nowrap; max-width:100%; }
.backcare-week-strip li, .backcare-week-grid td { box-sizing:border-box; text-align:center;
  border:1px solid #dadce0; border-radius:6px; line-height:1.2; }
.backcare-week-strip li { flex:1 1 0; min-width:0; max-width:64px; padding:3px 0; }
.backcare-day-name { display:block; font-size:12px; }
.backcare-day-mark { display:block; font-size:18px; font-weight:bold; min-height:22px; }
.backcare-day-date { display:block; font-size:12px; }
.backcare-week-grid { border-collapse:separate; border-spacing:3px; max-width:100%;
  table-layout:fixed; width:100%; }
.backcare-week-grid th { font-size:12px; font-weight:normal; color:#3c4043; }
.backcare-week-grid td { padding:2px 0; }
.backcare-week-grid th[scope=row] { text-align:left; white-space:nowrap; width:3.6em; }
.backcare-week-legend { font-size:13px; color:#3c4043; margin:4px 0; }
.backcare-week-legend span { white-space:nowrap; margin-right:10px; }
.backcare-sr-only { position:absolute; width:1px; height:1px; padding:0; margin:-1px;
  overflow:hidden; clip:rect(0,0,0,0); white-space:nowrap; border:0; }
.backcare-today-cell { outline:2px solid #1a73e8; outline-offset:-2px; }
</style>"""


def _look(status: str) -> tuple[str, str, str]:
    return LOOK.get(status, ("?", "#ffffff", "#202124"))


def _day_words(day: pd.Timestamp, status: str) -> str:
    return f"{day:%A} {day.day} {day:%B}: {DAY_STATUS_WORDS.get(status, status)}"


def _cell(day: pd.Timestamp, status: str, *, name: bool, today: pd.Timestamp | None) -> str:
    mark, bg, fg = _look(status)
    cls = ' class="backcare-today-cell"' if today is not None and day == today else ""
    head = f'<span class="backcare-day-name" aria-hidden="true">{day:%a}</span>' if name else ""
    return (
        f'<li{cls} data-status="{esc(status)}" title="{esc(_day_words(day, status))}" '
        f'style="background:{bg};color:{fg}">{head}'
        f'<span class="backcare-day-mark" aria-hidden="true">{esc(mark)}</span>'
        f'<span class="backcare-day-date" aria-hidden="true">{day.day}</span>'
        f'<span class="backcare-sr-only">{esc(_day_words(day, status))}</span></li>'
    )


def strip_html(
    days: pd.DataFrame, label: str = "The last 7 days", today: dt.date | None = None
) -> str:
    """One row of day cells (name, mark, date) from a day_statuses frame, as a labelled list."""
    t = pd.Timestamp(today) if today is not None else None
    cells = "".join(
        _cell(pd.Timestamp(d), str(s), name=True, today=t)
        for d, s in zip(days["day"], days["status"], strict=True)
    )
    return f'<ol class="backcare-week-strip" aria-label="{esc(label)}">{cells}</ol>'


def grid_html(weeks: list[pd.DataFrame], today: dt.date | None = None) -> str:
    """Calendar weeks as table rows (Monday to Sunday), oldest first, each labelled by its
    Monday; leading weeks with nothing prescribed are left out."""
    t = pd.Timestamp(today) if today is not None else None
    head = "".join(
        f'<th scope="col"><abbr title="{n}">{n[:2]}</abbr></th>'
        for n in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    )
    rows = []
    started = False  # weeks before anything was prescribed are left out
    for week in weeks:
        if week.empty or not (started or (week["status"] != "nothing").any()):
            continue
        started = True
        monday = pd.Timestamp(week["day"].iloc[0])
        cells = []
        for d, s in zip(week["day"], week["status"], strict=True):
            day, status = pd.Timestamp(d), str(s)
            mark, bg, fg = _look(status)
            cls = ' class="backcare-today-cell"' if t is not None and day == t else ""
            cells.append(
                f'<td{cls} data-status="{esc(status)}" title="{esc(_day_words(day, status))}" '
                f'style="background:{bg};color:{fg}">'
                f'<span class="backcare-day-mark" aria-hidden="true">{esc(mark)}</span>'
                f'<span class="backcare-sr-only">{esc(_day_words(day, status))}</span></td>'
            )
        rows.append(f'<tr><th scope="row">{monday.day} {monday:%b}</th>{"".join(cells)}</tr>')
    return (
        '<table class="backcare-week-grid"><caption class="backcare-sr-only">Your recent '
        "weeks, Monday to Sunday</caption>"
        f'<thead><tr><th scope="col"><span class="backcare-sr-only">Week of</span></th>{head}'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def legend_html() -> str:
    """What the marks mean, and how a day is judged."""
    parts = "".join(
        f'<span><b aria-hidden="true">{esc(_look(s)[0])}</b> {esc(words)}</span> '
        for s, words in DAY_STATUS_WORDS.items()
        if s != "upcoming"
    )
    return (
        f'<div class="backcare-week-legend">{parts}</div>'
        f'<div class="backcare-week-legend">{esc(DAY_STATUS_NOTE)}</div>'
    )


def strip_block_html(g: WeekGlance) -> str:
    """The last 7 days' strip with a one-line legend (for the checklist's saved message)."""
    marks = "".join(
        f'<span><b aria-hidden="true">{esc(_look(s)[0])}</b> {esc(words)}</span> '
        for s, words in DAY_STATUS_WORDS.items()
        if s in ("done", "partly", "missed", "rest")
    )
    return (
        WEEK_CSS
        + strip_html(g.last_days(7), today=g.day)
        + f'<div class="backcare-week-legend">{marks}</div>'
    )


def glance_html(g: WeekGlance, *, grid: bool = False) -> str:
    """A week at a glance: the last 7 days, this week's sessions, the streak (and, with grid,
    the recent weeks), with the legend. Plain text escaped; no user text is drawn."""
    lines = "".join(f"<div>{esc(line)}</div>" for line in week_progress_lines(g.progress))
    out = WEEK_CSS + '<div class="backcare-glance">'
    out += strip_html(g.last_days(7), today=g.day)
    out += f'<div class="backcare-glance-text">{lines}</div>'
    if grid:
        out += grid_html(g.weeks(), today=g.day)
    out += legend_html() + "</div>"
    return out
