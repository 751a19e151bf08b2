"""backcare export-notebook: the trends and clinic notebooks, with a physiotherapist's own
note added, as self-contained HTML. Opened in Chromium with every request outside file://
aborted and recorded: every figure renders (plotly's SVG), every table is there, plotly.js is
embedded once, nothing is requested, and user text that would run as script does not."""

from __future__ import annotations

import re

import nbformat
import pytest

from backcare.cli import main
from backcare.reports import PLOTLY_JS_SIGNATURE
from tests.support import ROOT
from tests.support.hostile import END, IMG, NAME, PATIENT, SEED, add_hostile_text
from tests.support.offline import open_offline

pytestmark = pytest.mark.e2e

PHYSIO_NOTE = "PHYSIO-NOTE progressed plank to 45 s; review in two weeks"
# a tag that would load something from the network (require.js, MathJax, a widget manager);
# plotly.js itself mentions MathJax, so words alone prove nothing: the browser check does
CDN = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I
)


def annotated(source_name: str, folder) -> str:
    """A copy of a shipped notebook with a physiotherapist's markdown note after the title."""
    nb = nbformat.read(ROOT / "notebooks" / source_name, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(f"**{PHYSIO_NOTE}**"))
    path = folder / source_name
    nbformat.write(nb, path)
    return str(path)


@pytest.fixture(scope="module")
def exported(demo_copy, tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("notebook-export")
    url = add_hostile_text(demo_copy(patients=1, days=90, seed=SEED, end=END))
    out = {"trends": tmp / "trends.html", "clinic": tmp / "clinic.html"}
    params = {
        "trends": ["--param", f"PATIENT_ID={PATIENT}", "--param", "PERIOD=All history"],
        "clinic": ["--param", f"AS_OF={END}"],
    }
    names = {"trends": "02_pain_trends.ipynb", "clinic": "03_clinic_overview.ipynb"}
    for key, name in names.items():
        nb = annotated(name, tmp)
        argv = ["export-notebook", nb, "--out", str(out[key]), *params[key], "--db", url]
        assert main(argv) == 0
    return out


def test_trends_notebook_exports_every_figure_offline(page, exported):
    html = exported["trends"].read_text(encoding="utf-8")
    assert html.count(PLOTLY_JS_SIGNATURE) == 1  # plotly.js embedded once
    assert not CDN.search(html)
    assert PHYSIO_NOTE in html
    dialogs, fetched = open_offline(page, exported["trends"])
    # the five figures: pain, calendar, weekly adherence, session effect, adherence vs pain
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5")
    page.wait_for_timeout(500)  # let any late onerror handler or timer fire
    assert page.locator(".js-plotly-plot").count() == 5
    assert fetched == [], f"the page tried to load {fetched}"
    assert dialogs == []
    body = page.inner_text("body")
    assert PHYSIO_NOTE in body and NAME in body  # the name shown as text, not run
    assert "Suggestions" in body and page.locator("img[src=x]").count() == 0
    assert IMG not in html  # only escaped


def test_clinic_notebook_exports_its_table_offline(page, exported):
    html = exported["clinic"].read_text(encoding="utf-8")
    assert not CDN.search(html) and PLOTLY_JS_SIGNATURE not in html  # no figure, no plotly.js
    dialogs, fetched = open_offline(page, exported["clinic"])
    # the DataTable is built by its embedded JavaScript: searchable and sortable offline
    page.wait_for_selector("table.dataTable.backcare-clinic tbody tr")
    page.wait_for_timeout(300)
    rows = page.locator("table.dataTable.backcare-clinic tbody tr")
    assert rows.count() == 1 and PATIENT in rows.first.inner_text()
    search = page.locator("input[type=search]")
    search.fill("no such patient")
    page.wait_for_timeout(300)
    assert PATIENT not in page.locator("table.dataTable.backcare-clinic tbody").inner_text()
    search.fill(PATIENT)
    page.wait_for_timeout(300)
    assert rows.count() == 1 and PATIENT in rows.first.inner_text()
    body = page.inner_text("body")
    assert "1 patients; " in body and PHYSIO_NOTE in body
    assert "HBox" not in body and "DatePicker" not in body  # widgets dropped, not shown as text
    assert fetched == [] and dialogs == []
