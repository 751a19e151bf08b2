"""The exported report in headless Chromium: figures render offline, no user text runs as code.

Every request outside file:// is aborted and recorded: the report must need none. User text
that would run script if it reached the page unescaped (`<img src=x onerror=alert(1)>`,
`<script>alert(1)</script>`) is stored in the patient's name, session notes, annotation text
and author, and the report's author and narrative; an alert would open a dialog."""

from __future__ import annotations

import re

import pytest

from backcare import reports as R
from backcare.reports.plotlyjs import CARTESIAN_FILE
from backcare.store import open_store
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
from tests.support.offline import open_offline

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def reports(demo_copy, tmp_path_factory) -> dict:
    """A normal and a pseudonymised report (keeping free text) of a patient with hostile text."""
    tmp = tmp_path_factory.mktemp("report-e2e")
    url = add_hostile_text(demo_copy(patients=1, days=90, seed=SEED, end=END))
    with open_store(url) as s:
        normal = R.write_report(
            s, PATIENT, tmp / "normal.html", period_to=END, author=AUTHOR, narrative=NARRATIVE
        )
        pseudo = R.write_report(
            s,
            PATIENT,
            tmp / "pseudo.html",
            period_to=END,
            author=AUTHOR,
            narrative=NARRATIVE,
            pseudonymise=True,
            keep_text=True,
        )
        R.write_reports(s, tmp / "all", period_to=END, progress=False)
    return {"normal": normal.path, "pseudo": pseudo.path, "folder": tmp / "all"}


def open_report(page, path):
    """Open a report with the network cut off; return (page, dialogs seen, non-file requests
    tried) once its five figures are drawn."""
    dialogs, fetched = open_offline(page, path)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5")
    page.wait_for_timeout(500)  # let any late onerror handler or timer fire
    return page, dialogs, fetched


def script_errors(page) -> list[str]:
    """The page's uncaught script errors (a list that keeps filling)."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_report_renders_offline_and_runs_no_user_text(page, reports):
    errors = script_errors(page)
    page, dialogs, fetched = open_report(page, reports["normal"])
    assert errors == [], errors
    assert page.evaluate(  # the cartesian bundle drew them
        "Array.from(document.scripts).some(s => s.text.includes('plotly.js (cartesian - min'))"
    )
    assert page.locator(".js-plotly-plot").count() == 5
    assert fetched == [], f"the report tried to load {fetched}"
    assert dialogs == [], f"user text ran as script: {dialogs}"
    assert page.evaluate("typeof window.Plotly") == "object"
    assert page.locator("img[src='x']").count() == 0
    text = page.inner_text("main")
    for literal in (NAME, AUTHOR, IMG, SCRIPT):  # shown as text, exactly as typed
        assert literal in text
    assert "NOTE-MARKER" in text and "ANNOTATION-MARKER" in text and "NARRATIVE-MARKER" in text


def test_annotation_hover_shows_the_text_escaped(page, reports):
    page, dialogs, _ = open_report(page, reports["normal"])
    # hover the hostile note on the pain plot through plotly's own API (exact, unlike mouse moves)
    found = page.evaluate(
        """() => {
            const gd = document.querySelector('.js-plotly-plot');
            const curve = gd.data.findIndex(t => t.name === 'Notes on the timeline');
            const point = Array.from(gd.data[curve].hovertext).findIndex(
                h => h.includes('onerror'));
            if (curve < 0 || point < 0) return false;
            Plotly.Fx.hover(gd, [{curveNumber: curve, pointNumber: point}]);
            return true;
        }"""
    )
    assert found, "the hostile note is not on the pain plot"
    pain = page.locator(".js-plotly-plot").first
    pain.locator(".hoverlayer .hovertext").wait_for()
    assert IMG in pain.locator(".hoverlayer").text_content()
    assert page.locator("img[src='x']").count() == 0 and dialogs == []


def test_pseudonymised_report_shows_day_numbers_on_its_axes(page, reports):
    page, dialogs, fetched = open_report(page, reports["pseudo"])
    assert dialogs == [] and fetched == []
    axes = page.evaluate(
        "Array.from(document.querySelectorAll('.js-plotly-plot .xtick text'))"
        ".map(t => t.textContent)"
    )
    assert axes and any(a.startswith("day ") for a in axes)
    plots = page.evaluate(
        "Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => p.textContent).join(' ')"
    )
    assert not re.search(r"\b(19|20)\d\d\b", plots), (
        "a calendar year is shown on a pseudonymised plot"
    )
    assert PATIENT not in page.inner_text("body") and "Zed Hostile" not in page.inner_text("body")


def test_a_report_of_an_all_folder_draws_its_figures_with_the_folders_plotly_js(page, reports):
    """`report --all` writes plotly.js once beside the reports: opened from the folder (file://,
    network cut), a report loads it from there and draws all five figures."""
    folder = reports["folder"]
    assert (folder / CARTESIAN_FILE).is_file()
    errors = script_errors(page)
    page, dialogs, fetched = open_report(page, folder / f"{PATIENT}.html")
    assert fetched == [] and dialogs == [] and errors == [], (fetched, dialogs, errors)
    assert page.locator(".js-plotly-plot .main-svg").count() >= 5
    loaded = page.evaluate("Array.from(document.scripts).map(s => s.src).filter(Boolean)")
    assert loaded == [(folder / CARTESIAN_FILE).as_uri()]
    # the bars of the weekly adherence and the calendar's heatmap are drawn, not only axes
    assert page.locator(".js-plotly-plot .barlayer .point").count() > 0
    assert page.locator(".js-plotly-plot .heatmaplayer image").count() > 0
