"""Plain words for the numbers: the summary sentence a person reads first.

Numbers come from backcare.analysis; this module only words them (no causal language).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from backcare.analysis.adherence import Streaks, WeekProgress, period_adherence
from backcare.analysis.change import IMPROVED, INSUFFICIENT, MUCH_IMPROVED, WORSE, PainTrend
from backcare.domain.catalog import Catalog
from backcare.domain.wording import (
    ASSOCIATION_CAVEAT,
    CONSULT_ADVICE,
    RED_FLAGS,
    SELF_REPORT_CAVEAT,
    SESSION_EFFECT_CAVEAT,
    SUGGESTION_DISCLAIMER,
    TREND_CAVEAT,
)
from backcare.present.html import esc


def _fmt_day(ts: pd.Timestamp) -> str:
    return f"{ts.day} {ts.strftime('%b %Y')}"


def summarise(
    trend: PainTrend,
    weekly: pd.DataFrame | None = None,
    streak: Streaks | None = None,
    habit: float | None = None,
) -> str:
    """The plain-words summary: pain change and its MCID class, then adherence (no causal language).

    Method: numbers from pain_trend (rounded to one decimal), period_adherence, streaks and
    habit_strength; see their docstrings."""
    parts = []
    w = trend.weeks
    span = f"over {w} week{'s' if w != 1 else ''}" if w is not None else ""
    base, last = trend.baseline, trend.latest
    bw, lw = trend.baseline_window, trend.latest_window
    # a trend that is not INSUFFICIENT has both means and both windows
    if trend.status == INSUFFICIENT or base is None or last is None or bw is None or lw is None:
        parts.append(f"Not enough pain scores to judge a trend yet: {trend.reason}.")
    else:
        b, lt = f"{base:.1f}", f"{last:.1f}"
        pts = abs(last - base)
        pct = f", {abs(last - base) / base * 100:.0f} %" if base > 0 else ""
        by = f"{pts:.1f} points{pct}"
        if trend.status == MUCH_IMPROVED:
            parts.append(
                f"Pain fell from {b} to {lt} {span} ({by}): a substantial, clinically "
                "important improvement."
            )
        elif trend.status == IMPROVED:
            parts.append(
                f"Pain fell from {b} to {lt} {span} ({by}): a clinically important improvement."
            )
        elif trend.status == WORSE:
            parts.append(
                f"Pain rose from {b} to {lt} {span} ({by}): a clinically important worsening."
            )
        elif base == last:
            parts.append(f"Pain stayed at {b} {span}: no clinically important change.")
        else:
            verb = "fell" if last < base else "rose"
            parts.append(
                f"Pain {verb} from {b} to {lt} {span} ({by}): no clinically important change."
            )
        if trend.low_baseline:
            parts.append(
                f"The starting level ({b}) is below 2 points, so an important improvement "
                "cannot be shown on the 0-10 scale."
            )
        anchor = (
            f", from the programme's start on {_fmt_day(trend.anchor)}"
            if trend.anchor is not None and trend.anchor < bw[0]
            else ""
        )
        parts.append(
            f"(Baseline: the first two weeks with enough scores{anchor}, {_fmt_day(bw[0])} to "
            f"{_fmt_day(bw[1])}; latest: {_fmt_day(lw[0])} to {_fmt_day(lw[1])}. An important "
            "change is 2 points and, for an improvement, 30 % (Ostelo 2008); 50 % is "
            "substantial (IMMPACT 2008).)"
        )
    adh = period_adherence(weekly) if weekly is not None else None
    if adh is not None:
        parts.append(
            f"Exercises were ticked off {adh * 100:.0f} % of the prescribed times in this period "
            "(self-reported; 80 % is commonly called adherent)."
        )
    elif weekly is not None:
        parts.append("No programme was in force in this period.")
    if streak is not None and (streak.longest or streak.current):
        parts.append(
            f"Weeks in a row at 80 % or more: {streak.current} now, {streak.longest} at most."
        )
    if habit is not None and not math.isnan(habit):
        parts.append(f"Habit strength: {round(habit * 100)} out of 100.")
    return " ".join(parts)


# ---- this week ---------------------------------------------------------------------------------
def _n(x: float) -> str:
    return str(round(x)) if abs(x - round(x)) < 0.05 else f"{x:.1f}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def streak_sentence(s: Streaks) -> str:
    """The weekly streak in plain words, saying what counts (analysis.streaks: weeks at 80 % or
    more of the prescribed exercises; the week in progress counts once it is complete)."""
    pct = f"{s.threshold * 100:.0f} %"
    if s.current:
        head = (
            f"{_plural(s.current, 'week')} in a row with {pct} or more of your prescribed "
            "exercises done"
        )
    elif s.longest:
        head = (
            f"A new run starts with a week at {pct} or more of your prescribed exercises "
            f"(your best so far: {_plural(s.longest, 'week')} in a row)"
        )
    else:
        head = f"Your run starts with a whole week at {pct} or more of your prescribed exercises"
    return head + ("; this week counts once it is complete." if s.in_progress else ".")


def week_progress_lines(p: WeekProgress) -> list[str]:
    """This week's progress in plain sentences (no HTML): sessions against the prescription,
    the days left, the streak and the self-report caveat."""
    week = f"This week ({p.week_start:%a %d %b} to {p.week_end:%a %d %b})"
    if not p.exercises_prescribed or p.adherence is None:
        return [f"{week}: no programme is prescribed."]
    left = p.days_left
    more = f"; {_plural(left, 'day')} to go" if left else ""
    out = [
        f"{week}: {_n(p.sessions_done)} of {_n(p.sessions_prescribed)} sessions done{more}.",
        streak_sentence(p.streak),
        SELF_REPORT_CAVEAT,
    ]
    return out


# what each day status of analysis.day_statuses means, in the strip's legend and its labels
DAY_STATUS_WORDS = {
    "done": "done",
    "partly": "partly done",
    "missed": "missed",
    "rest": "rest day",
    "nothing": "nothing prescribed",
    "open": "today, still to do",
    "upcoming": "still to come",
}
DAY_STATUS_NOTE = (
    "A day is done when an exercise was ticked and none is missing. An exercise prescribed "
    "fewer than 7 times a week may be left out on its spare days (3 times a week: 4 spare "
    "days, counted from Monday); a day without it after that counts as missing it."
)


# ---- progression suggestions ---------------------------------------------------------------------
UNITS = {"hold_s": "s hold", "reps": "reps", "minutes": "min"}


def suggestion_sentence(s: Mapping[str, Any] | None) -> str:
    """One suggestion (a row of analysis.progression_suggestions) in plain words (not escaped)."""
    if s is None:
        return "No suggestion: not in the programme in force, or no history yet."
    unit = UNITS.get(str(s["dose"]), str(s["dose"]))
    reason = str(s["reason"])
    if s["direction"] == "up":
        return (
            f"Suggestion: progress to {int(s['suggested'])} {unit} "
            f"(now {int(s['current'])}): {reason}."
        )
    if s["direction"] == "down":
        return (
            f"Suggestion: step back to {int(s['suggested'])} {unit} "
            f"(now {int(s['current'])}): {reason}."
        )
    return f"No change suggested: {reason}."


def suggestions_html(suggestions: pd.DataFrame, catalog: Catalog) -> str:
    """The up/down suggestions as an HTML list, named and in plain words (user text escaped)."""
    moves = (
        suggestions[suggestions["direction"].isin(["up", "down"])]
        if len(suggestions)
        else suggestions
    )
    if moves is None or moves.empty:
        return "<p class='backcare-text'>No change of dose is suggested at the moment.</p>"
    lis = []
    for record in moves.to_dict("records"):
        r = {str(k): v for k, v in record.items()}
        ex = str(r["exercise_id"])
        name = catalog[ex].name if ex in catalog else ex
        lis.append(f"<li><b>{esc(name)}</b>: {esc(suggestion_sentence(r))}</li>")
    return "<ul>" + "".join(lis) + "</ul>"


# ---- the caveat printed under each section of the trends view and the report ----------------
CAVEATS = {
    "pain": (
        TREND_CAVEAT + " The green band runs from the level that would count as an important "
        "improvement to the one that would count as worse: a change that "
        "stays inside it is not clinically important."
    ),
    "calendar": (
        "A cell's colour is the share of the programme's exercises ticked off that "
        "day. Exercises prescribed fewer than 7 times a week are not due every day, "
        "so a pale day is not necessarily a missed one: the weekly bars account for "
        "that. " + SELF_REPORT_CAVEAT
    ),
    "weekly": (
        "Each bar is done / prescribed for the week, using the programme in force on "
        "each day; doing an exercise more often than prescribed does not make up for "
        "another. Partial weeks at the edges are pro-rated. " + SELF_REPORT_CAVEAT
    ),
    "effect": SESSION_EFFECT_CAVEAT,
    "adherence_pain": ASSOCIATION_CAVEAT,
    "suggestions": SUGGESTION_DISCLAIMER + " " + CONSULT_ADVICE,
}


# ---- red flags ---------------------------------------------------------------------------------
def red_flag_lines(sessions: pd.DataFrame) -> list[str]:
    """One plain line per session with a red flag ticked: its day and the symptoms (not escaped)."""
    if sessions is None or sessions.empty or "red_flags" not in sessions.columns:
        return []
    flagged = sessions[sessions["red_flags"].fillna("") != ""]
    return [
        f"{pd.Timestamp(day):%a %d %b %Y}: "
        + "; ".join(RED_FLAGS.get(c.strip(), c.strip()) for c in str(codes).split(",") if c.strip())
        for day, codes in zip(flagged["day"], flagged["red_flags"], strict=True)
    ]
