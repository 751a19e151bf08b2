"""Per-patient reports: a parameterised, read-only notebook exported as self-contained HTML.

Reports run a real kernel (papermill), a few seconds each, so they are made once per module
(module-scoped fixtures) and each test reads the files."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import sqlite3
import stat
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from backcare import analysis as A
from backcare import reports as R
from backcare.cli import main
from backcare.domain import wording as W
from backcare.errors import NotFoundError, ValidationError
from backcare.present.html import esc
from backcare.reports.plotlyjs import CARTESIAN_FILE, cartesian_path
from backcare.reports.privacy import pseudonym, pseudonym_key
from backcare.store import open_store
from tests.support import ROOT
from tests.support.hostile import (
    AUTHOR,
    END,
    IMG,
    NAME,
    NARRATIVE,
    PATIENT,
    SCRIPT,
    SEED,
    add_hostile_text,
)


def outside_plotlyjs(html: str) -> str:
    """The HTML without the embedded plotly.js library (whose source holds URLs, years, etc.)."""
    i = html.index(R.PLOTLY_JS_SIGNATURE)
    start, end = html.rindex("<script", 0, i), html.index("</script>", i)
    return html[:start] + html[end:]


def plain(html_text: str) -> str:
    """The HTML outside plotly.js with entities decoded (nbconvert re-serialises outputs' HTML)."""
    return html.unescape(outside_plotlyjs(html_text))


def dump(url: str) -> list[str]:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.fixture(scope="module")
def url(demo_copy) -> str:
    return add_hostile_text(demo_copy(patients=2, days=120, seed=SEED, end=END))


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("reports")


@pytest.fixture(scope="module")
def normal(url, out) -> str:
    with open_store(url) as s:
        r = R.write_report(
            s, PATIENT, out / "normal.html", period_to=END, author=AUTHOR, narrative=NARRATIVE
        )
    assert r.path.exists() and r.bytes == r.path.stat().st_size
    return r.path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pseudo(url, out) -> dict:
    """A pseudonymised report, with dumps of the store before and after making it."""
    with open_store(url) as s:
        alias = pseudonym(pseudonym_key(s), PATIENT)  # the one write: the key, made beforehand here
        before = dump(url)
        r = R.write_report(
            s,
            PATIENT,
            out / "pseudo.html",
            period_to=END,
            author="Physio Pat",
            narrative=NARRATIVE,
            pseudonymise=True,
        )
        after = dump(url)
    return {
        "html": r.path.read_text(encoding="utf-8"),
        "alias": alias,
        "before": before,
        "after": after,
        "result": r,
    }


# ---- the notebook --------------------------------------------------------------------------------
def notebook():
    return nbformat.read(ROOT / "notebooks" / "04_patient_report.ipynb", as_version=4)


def test_parameters_cell_is_tagged_and_holds_every_parameter():
    tagged = [c for c in notebook().cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = re.findall(r"^(\w+) = ", tagged[0].source, flags=re.M)
    assert tuple(names) == R.PARAMETERS


def test_notebook_is_thin_read_only_and_explains_each_section():
    nb = notebook()
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "open_store(upgrade=False)" in code
    for write in ("add_", "save_", "set_programme", "pseudonym_key", "delete", "import_bundle"):
        assert write not in code, write
    assert all(len(c.source.splitlines()) <= 12 for c in nb.cells if c.cell_type == "code")
    shown = re.findall(r'report\.show\("(\w+)"\)', code)
    assert sorted(shown) == sorted(R.SECTIONS)
    for i, cell in enumerate(
        nb.cells
    ):  # every section's cell follows a markdown cell explaining it
        if (
            cell.cell_type == "code"
            and "report.show(" in cell.source
            and "load_report" not in cell.source
        ):
            assert nb.cells[i - 1].cell_type == "markdown" and nb.cells[i - 1].source.startswith(
                "## "
            )


# ---- what the report shows -----------------------------------------------------------------------
def test_report_shows_summary_annotations_narrative_methods_and_caveats(normal, url):
    text = plain(normal)
    with open_store(url) as s:
        rep = R.load_report(s, PATIENT, "", END)
    assert rep.data.summary and rep.data.summary in text
    assert "ANNOTATION-MARKER" in text and "Milestone" in text  # its kind, as labelled
    assert "NARRATIVE-MARKER" in text and "NOTE-MARKER" in text
    assert "Severe pain at night" in text  # the red flag ticked in a session
    for caveat in (
        W.SELF_REPORT_CAVEAT,
        W.ASSOCIATION_CAVEAT,
        W.TREND_CAVEAT,
        W.SESSION_EFFECT_CAVEAT,
    ):
        assert caveat in text
    assert "Ostelo" in text and f"{A.MIN_EFFECT_N} sessions" in text
    assert "Exercise and pain report" in text and PATIENT in text


def test_annotations_are_on_the_pain_plot(normal):
    assert (
        "Notes on the timeline" in normal
        and "ANNOTATION-MARKER" in normal.split("Pain over time", 1)[1]
    )


def body(html_text: str) -> str:
    """What is inside <main> (the notebook's cells), without plotly.js: no CSS."""
    text = outside_plotlyjs(html_text)
    return text[text.index("<main>") :]


def test_code_and_prompts_are_hidden(normal):
    text = body(normal)
    for code in ("load_report(", "open_store(", "report.show(", "jp-InputPrompt", "In&nbsp;["):
        assert code not in text
    assert "notebook-only" not in text and "Make it with" not in text  # the notebook's own intro


def test_plotly_js_is_embedded_once_and_nothing_is_fetched(normal, pseudo):
    for page in (normal, pseudo["html"]):
        assert page.count(R.PLOTLY_JS_SIGNATURE) == 1
        assert page.count("Plotly.newPlot(") == 5
        assert not re.search(r"<script[^>]*\bsrc=", page, re.I)
        assert not re.search(r"<link[^>]*\bhref=[\"']?(https?:)?//", page, re.I)
        assert "require.js" not in outside_plotlyjs(page) and "MathJax.js" not in outside_plotlyjs(
            page
        )


def test_user_text_is_escaped(normal):
    text = outside_plotlyjs(normal)
    assert SCRIPT not in normal and IMG not in normal
    assert "onerror=alert(1)>" not in normal
    assert esc(NAME) in text and esc(AUTHOR) in text and esc(IMG) in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_html_sections_escape_every_user_text(url):
    with open_store(url) as s:
        for pseudonymise in (False, True):
            rep = R.load_report(
                s,
                PATIENT,
                "",
                END,
                author=AUTHOR,
                narrative=NARRATIVE,
                pseudonymise=pseudonymise,
                pseudonym="P-0123456789",
                keep_text=True,
            )
            for section in R.SECTIONS:
                shown = (
                    rep.figure(section).to_json() if section in R._FIGURES else rep.html(section)
                )
                assert SCRIPT not in shown and IMG not in shown, section


# ---- pseudonymised -------------------------------------------------------------------------------
def test_pseudonymised_report_hides_id_name_and_free_text(pseudo):
    html = pseudo["html"]
    assert pseudo["alias"] in html and pseudo["result"].shown_id == pseudo["alias"]
    for secret in (PATIENT, "Zed Hostile", "NOTE-MARKER", "ANNOTATION-MARKER", "gardening"):
        assert secret not in html, secret
    assert "(milestone: text left out)" in html
    assert "NARRATIVE-MARKER" in html  # the physiotherapist's narrative for this report is kept


def test_pseudonymised_report_shows_day_numbers_and_no_calendar_date(pseudo):
    text = body(pseudo["html"])
    # the only years are those of the cited sources
    for cited in (
        "Spine 2008;",
        "J Pain 2008;",
        "Ostelo 2008",
        "IMMPACT 2008",
        "J Pain 2019;",
        "Scand J Pain 2017;",
        "Bartlett 1935",
        "Hammersley 1946",
        "Peterman 1998",
        "Exerc 2009;",
        # the questionnaires' sources (reports.methods_html)
        "Spine 1983;",
        "Physiother Can 1995;",
        "J Orthop Sports Phys Ther 2014;",
        "Control Clin Trials 1989;",
        "J Man Manip Ther 2009;",
    ):
        text = text.replace(cited, "")
    # element ids are random uuids whose hex groups can read like a year ("-1976-"): not dates
    text = re.sub(r'id="[^"]*"', 'id=""', text)
    text = re.sub(r'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"', '""', text)
    assert "day 1 to day " in text
    assert not re.search(r"\b(19|20)\d\d\b", text), re.search(
        r".{0,60}\b(19|20)\d\d\b.{0,20}", text
    )
    assert not re.search(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d", text)


def test_making_a_report_writes_nothing_to_the_store(pseudo):
    assert pseudo["after"] == pseudo["before"]


def test_pseudonymised_frames_follow_the_bundle_rules(url):
    with open_store(url) as s:
        rep = R.load_report(s, PATIENT, "", END, pseudonymise=True, pseudonym="P-0123456789")
        real = R.load_report(s, PATIENT, "", END)
    d = rep.data
    assert d.patient_id == "P-0123456789" and d.name == ""
    assert (rep.sessions["notes"] == "").all() and (rep.prescriptions["note"] == "").all()
    assert d.annotations["text"].str.endswith(": text left out)").all()
    assert d.start.weekday() == real.data.start.weekday() and d.start.year == 2000
    assert (d.end - d.start) == (real.data.end - real.data.start)
    assert d.summary.split("(")[0] == real.data.summary.split("(")[0]  # same numbers, other dates
    assert rep.when(d.start) == "day 1" and rep.when(d.end) == f"day {(d.end - d.start).days + 1}"


def test_day_labels_replace_every_date_form():
    days = R.DayLabels(pd.Timestamp("2000-01-05"))
    assert (
        days.text("from 2000-01-05 to 7 Jan 2000, since 2000-01-01")
        == "from day 1 to day 3, since before day 1"
    )
    assert days.text("at 2000-01-06T10:00:00+00:00.") == "at day 2."
    assert days.text("2000-01-05 3 sessions, 2000-01-06 10:30") == "day 1 3 sessions, day 2"
    assert R._x_as_day("week of %{x}: %{y}") == "Week starting day %{x}: %{y}"
    assert R._x_as_day("Flare-up (%{x}): pain") == "Flare-up (day %{x}): pain"
    assert R._x_as_day("%{x|%b %Y}: %{y}") == "Month starting day %{x}: %{y}"


# ---- formats, --all and the CLI ------------------------------------------------------------------
def test_ipynb_format_keeps_outputs(url, out, capsys):
    path = out / "colleague.ipynb"
    assert (
        main(
            [
                "report",
                "--patient",
                PATIENT,
                "--to",
                END.isoformat(),
                "--out",
                str(path),
                "--db",
                url,
            ]
        )
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    nb = nbformat.read(path, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)
    assert sum(json.dumps(o).count(R.PLOTLY_JS_SIGNATURE) for o in outputs) == 1
    assert nb.metadata.papermill.parameters["patient"] == PATIENT


def test_all_writes_one_file_per_patient_named_by_pseudonym(demo_copy, tmp_path, capsys):
    url = add_hostile_text(demo_copy(patients=2, days=30, seed=SEED, end=END))
    folder = tmp_path / "all"
    assert (
        main(["report", "--all", "--pseudonymise", "--progress", "--out", str(folder), "--db", url])
        == 0
    )
    captured = capsys.readouterr()
    assert (
        "wrote 2 reports" in captured.out and "reports" in captured.err
    )  # tqdm's bar is on stderr
    with open_store(url) as s:
        key = pseudonym_key(s)
        expected = sorted(f"{pseudonym(key, p)}.html" for p in s.patients()["patient_id"])
    # one report per patient, and plotly.js once for the folder
    assert sorted(p.name for p in folder.iterdir()) == sorted([*expected, CARTESIAN_FILE])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # made by --all: its owner's only
    for p in folder.iterdir():
        assert "demo-000" not in p.read_text(encoding="utf-8")
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert (folder / CARTESIAN_FILE).read_bytes() == cartesian_path().read_bytes()
    for name in expected:
        page = (folder / name).read_text(encoding="utf-8")
        assert R.PLOTLY_JS_SIGNATURE not in page  # not embedded: loaded from beside the report
        scripts = re.findall(r"<script[^>]*\bsrc=[\"']?([^\"' >]+)", page)
        assert scripts == [CARTESIAN_FILE]
        assert page.count("Plotly.newPlot(") == 5


def test_reports_are_written_owner_only(normal, pseudo, out):
    for name in ("normal.html", "pseudo.html"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name


def test_pseudonymised_notebook_carries_no_id_or_timestamps(url, out):
    with open_store(url) as s:
        params = R.report_parameters(s, PATIENT, period_to=END, pseudonymise=True)
    fake = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                f"patient = {PATIENT!r}",
                metadata={"tags": ["injected-parameters"], "papermill": {"start_time": "x"}},
            ),
        ],
        metadata={"papermill": {"parameters": dict(params), "start_time": "t", "end_time": "t"}},
    )
    red = R._redact(fake, params)
    text = json.dumps(red)
    assert PATIENT not in text and "start_time" not in text and params["pseudonym"] in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--patient", "nobody", "--out", "x.html"], "patient_id: 'nobody' not found"),
        (
            ["--patient", PATIENT, "--from", "2026-03-01", "--to", "2026-02-01", "--out", "x.html"],
            "period_from",
        ),
        (["--all", "--narrative", "one patient's", "--out", "dir"], "narrative"),
        (
            ["--patient", PATIENT, "--narrative-file", "/no/such/file", "--out", "x.html"],
            "--narrative-file",
        ),
        (["--patient", PATIENT, "--out", "."], "not a folder"),
    ],
)
def test_cli_user_errors_print_one_line_and_exit_2(
    argv, message, url, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert main(["report", *argv, "--db", url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("backcare: error:") and message in err[0], err
    assert not list(tmp_path.iterdir())  # nothing written


def test_load_report_checks_its_arguments(url):
    with open_store(url) as s:
        with pytest.raises(NotFoundError, match="patient"):
            R.load_report(s, "nobody")
        with pytest.raises(ValidationError, match="period_from"):
            R.load_report(s, PATIENT, "2026-13-01")
        with pytest.raises(ValidationError, match="pseudonym"):
            R.load_report(s, PATIENT, pseudonymise=True)  # the notebook never computes it itself
        assert R.load_report(s).data.patient_id == PATIENT  # "" = the first patient


def test_html_that_would_fetch_anything_is_refused():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "x",
                outputs=[
                    nbformat.v4.new_output(
                        "display_data",
                        data={"text/html": '<script src="https://cdn.example/x.js"></script>'},
                    ),
                ],
            )
        ]
    )
    with pytest.raises(R.ReportError, match="network"):
        R.to_html(nb)


def test_a_patient_without_data_still_gets_every_section(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'empty.db'}") as s:
        s.add_patient("p0", "New Patient")
        for pseudonymise in (False, True):
            rep = R.load_report(s, "p0", pseudonymise=pseudonymise, pseudonym="P-0123456789")
            shown = {
                sec: rep.figure(sec) if sec in R._FIGURES else rep.html(sec) for sec in R.SECTIONS
            }
            assert (
                "No notes on the timeline" in shown["annotations"]
                and "No red flag" in shown["red_flags"]
            )


def test_the_summary_opens_with_a_red_flag_block_and_lists_flare_up_episodes(tmp_path):
    """A red flag ticked on Tue 3 Mar 2026 heads the summary in a red block; a six-day
    flare-up (3 for 14 days, then 7 from 17 to 22 Feb, quick pain entries) is listed as ONE
    episode with its start, days, peak and baseline; a patient without either gets no block."""
    with open_store(f"sqlite:///{tmp_path / 'flags.db'}") as s:
        for pid in ("flagged", "calm"):
            s.add_patient(pid, pid.title())
        first = dt.date(2026, 2, 3)
        for i, v in enumerate([3] * 14 + [7] * 6 + [3] * 8):
            when = dt.datetime.combine(first + dt.timedelta(days=i), dt.time(19, 0, 0, 250), dt.UTC)
            s.add_pain("flagged", v, recorded_at=when)
        s.save_session(
            "flagged",
            [{"exercise_id": "plank", "done": True, "hold_s": 30}],
            day=dt.date(2026, 3, 3),
            pain_before=3,
            red_flags=["night-pain"],
        )
        s.save_session(
            "calm", [{"exercise_id": "plank", "done": True, "hold_s": 30}], day=dt.date(2026, 3, 3)
        )
        end = dt.date(2026, 3, 4)
        summary = R.load_report(s, "flagged", dt.date(2026, 2, 3), end).html("summary")
        calm = R.load_report(s, "calm", dt.date(2026, 2, 3), end).html("summary")
    assert summary.index("backcare-red-flag-summary") < summary.index("backcare-key-numbers")
    assert "RED FLAG: 1 session(s) with a red flag ticked in this period" in summary
    assert "contact a clinician before changing the programme" in summary
    # 17 Feb 2026 is the 15th day; days 17-22 Feb: 6 days at 7 against the median 3
    assert "1: from 17 Feb 2026, 6 day(s), peak 7.0 (baseline 3.0)" in summary
    assert "backcare-red-flag-summary" not in calm and ">0<" in calm


def test_the_programme_section_shows_each_exercise_drawing(url):
    import base64
    import re

    with open_store(url) as s:
        rep = R.load_report(s, PATIENT, "", END)
        shown = rep.html("programme")
        names = {e.id: e.name for e in s.catalog}
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)" alt="Drawing: ([^"]+)"', shown)
    assert images, shown[:500]
    folder = ROOT / "backcare" / "data" / "images"
    for data, name in images:
        ex_id = next(i for i, n in names.items() if n == name)
        assert base64.b64decode(data).decode() == (folder / f"{ex_id}.svg").read_text()


def test_day_numbers_replace_the_dates_of_a_date_axis():
    """A date axis becomes day numbers: the points, the ticks and the hover text."""
    from backcare.present import figures as P
    from tests.support.frames import D, frame, pain

    scores = pain(*((D(i), 4) for i in range(10)))
    daily = A.daily_pain(frame("sessions", []), scores, D(0), D(9))
    fig = R.DayLabels(pd.Timestamp(D(0))).figure(P.pain_figure(daily))
    points = next(t for t in fig.data if t.name == "Daily mean pain")
    assert list(points.x) == list(range(1, 11))  # D(0) is day 1, D(9) day 10
    # 10 days: a tick on every day (at most about 12 ticks)
    assert list(fig.layout.xaxis.tickvals) == list(range(1, 11))
    assert points.hovertemplate.startswith("Day %{x}")
