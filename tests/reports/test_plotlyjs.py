"""Reports embed plotly's cartesian bundle (1.5 MB) instead of the full plotly.js (4.8 MB), run in
this process (no kernel per report), and never come out silently broken: a trace type the bundle
cannot draw is refused; a missing or mismatched bundle gives the full one, and says so."""

from __future__ import annotations

import datetime as dt
import re

import plotly.graph_objects as go
import plotly.offline
import pytest

from backcare import reports as R
from backcare.cli import main
from backcare.reports import plotlyjs as J
from backcare.store import open_store
from tests.support.hostile import END, PATIENT, SEED, add_hostile_text


@pytest.fixture(scope="module")
def short(demo_copy) -> str:
    """120 days with red flags, notes and questionnaires (the report tests' hostile patient)."""
    return add_hostile_text(demo_copy(patients=2, days=120, seed=SEED, end=END))


@pytest.fixture(scope="module")
def long(demo_copy) -> str:
    """Three years: the pain chart is binned, the calendar labelled by years."""
    return demo_copy(patients=1, days=3 * 365, seed=SEED, end=END)


def shipped() -> str:
    path = J.cartesian_path()
    assert path is not None, "plotly.js's cartesian bundle is missing: run make (npm ci)"
    return path.read_text(encoding="utf-8")


def test_the_bundle_lists_its_trace_types_and_matches_plotlys_version():
    source = shipped()
    traces = J.bundle_traces(source)
    assert {"scatter", "bar", "heatmap"} <= traces  # what backcare's figures draw
    assert "scattergeo" not in traces and "scatter3d" not in traces  # the full bundle's
    assert J.bundle_version(source) == plotly.offline.get_plotlyjs_version()
    assert source.count(J.SIGNATURE) == 1
    bundle = J.plotly_js()
    assert bundle.cartesian and bundle.note == "" and bundle.traces == traces


def test_every_trace_type_of_every_report_figure_is_in_the_shipped_bundle(short, long):
    """Parsed from the shipped file, never a list typed here: a figure drawing a trace type the
    bundle lacks would show as an empty box."""
    traces = J.bundle_traces(shipped())
    used: set[str] = set()
    for url in (short, long):
        with open_store(url) as s:
            for kw in ({}, {"pseudonymise": True, "pseudonym": "P-0123456789"}):
                report = R.load_report(s, PATIENT, "", END, **kw)
                used |= J.trace_types(report.figures.values())
            empty = R.load_report(s, PATIENT, END + dt.timedelta(days=30), "")
            used |= J.trace_types(empty.figures.values())
    assert used == {"scatter", "bar", "heatmap"}
    assert used <= traces


def test_a_trace_type_the_bundle_lacks_is_refused_with_its_name():
    bundle = J.plotly_js()
    J.check_traces([go.Figure(go.Scatter(y=[1, 2])), go.Figure(go.Bar(y=[1]))], bundle)
    with pytest.raises(R.ReportError, match="scattergeo"):
        J.check_traces([go.Figure(go.Scattergeo(lat=[1], lon=[2]))], bundle)


def test_a_single_report_embeds_the_cartesian_bundle_once(short, tmp_path):
    with open_store(short) as s:
        r = R.write_report(s, PATIENT, tmp_path / "r.html", period_to=END)
    page = r.path.read_text(encoding="utf-8")
    assert page.count(J.SIGNATURE) == 1
    assert "* plotly.js (cartesian - minified) v" in page
    assert not re.search(r"<script[^>]*\bsrc=", page, re.I)  # nothing to fetch, nothing beside
    assert page.index("plotly.js (cartesian") < page.index("Plotly.newPlot(")
    # the page is the bundle plus the report: far below the full bundle alone
    assert r.bytes < len(shipped()) + 1_000_000 < len(plotly.offline.get_plotlyjs())


def test_without_the_cartesian_bundle_reports_embed_the_full_one_and_say_so(
    short, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(J, "cartesian_path", lambda: None)
    J.plotly_js.cache_clear()
    try:
        bundle = J.plotly_js()
        assert not bundle.cartesian and "npm ci" in bundle.note
        out = tmp_path / "full.html"
        assert main(["report", "--patient", PATIENT, "--out", str(out), "--db", short]) == 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("backcare: note:") and "full" in err[0]
        page = out.read_text(encoding="utf-8")
        assert "* plotly.js v" in page and "cartesian - minified" not in page
        assert page.count("Plotly.newPlot(") == 5
    finally:
        J.plotly_js.cache_clear()


def test_a_bundle_of_another_version_is_not_used(tmp_path, monkeypatch):
    fake = tmp_path / J.CARTESIAN_FILE
    fake.write_text("/**\n* plotly.js (cartesian - minified) v0.0.1\n*/\n", encoding="utf-8")
    monkeypatch.setattr(J, "cartesian_path", lambda: fake)
    J.plotly_js.cache_clear()
    try:
        bundle = J.plotly_js()
        assert not bundle.cartesian and "0.0.1" in bundle.note
    finally:
        J.plotly_js.cache_clear()


def test_reports_run_in_this_process_without_a_kernel(short, tmp_path, monkeypatch):
    """`report --all` runs every report in one process: starting a kernel fails the test."""
    import jupyter_client
    import papermill

    def no_kernel(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(jupyter_client.KernelManager, "start_kernel", no_kernel)
    monkeypatch.setattr(jupyter_client.AsyncKernelManager, "start_kernel", no_kernel)
    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    folder = tmp_path / "all"
    assert main(["report", "--all", "--out", str(folder), "--db", short]) == 0
    assert len(list(folder.glob("demo-*.html"))) == 2
