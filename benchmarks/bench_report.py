"""Per-patient reports: HTML size and time for one patient and for 100 (`report --all`).

    .venv/bin/python benchmarks/bench_report.py        (BENCH_REPORT_PATIENTS, default 100)

The store: `backcare demo` with 100 patients x 365 days (seed 11). Reports run in this process
(no kernel per report), warm: the first report of a process also pays for importing nbformat,
papermill's parameteriser and nbconvert (printed separately).

- one patient: the median seconds of REPEAT reports of demo-0001 and the file's size, of which
  plotly.js; reference: plotly's own ``write_html`` of the same five figures (one page, the full
  plotly.js embedded once, as plotly writes it), timed in the same run.
- 100 patients: `report --all` into a folder: seconds and MB per report, plotly.js written once.
Never run by `make test`."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backcare import reports as R  # noqa: E402
from backcare.demo import fill_demo  # noqa: E402
from backcare.reports.plotlyjs import plotly_js  # noqa: E402
from backcare.store import open_store  # noqa: E402

END = dt.date(2026, 6, 30)
PATIENTS = int(os.environ.get("BENCH_REPORT_PATIENTS", "100"))
REPEAT = 5


def _write_html(store, pid: str, path: Path) -> float:
    """Seconds for plotly's write_html of the report's five figures (built beforehand)."""
    import plotly.io as pio

    figures = list(R.load_report(store, pid, "", END).figures.values())
    t0 = time.perf_counter()
    parts = [
        pio.to_html(f, include_plotlyjs=i == 0, full_html=False) for i, f in enumerate(figures)
    ]
    path.write_text("<html><body>" + "".join(parts) + "</body></html>", encoding="utf-8")
    return time.perf_counter() - t0


def run() -> dict[str, float | int | str]:
    """Seconds and MB per report for one patient and for PATIENTS, beside plotly's write_html."""
    out: dict[str, float | int | str] = {}
    bundle = plotly_js()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'reports.db'}"
        with open_store(url) as store:
            fill_demo(store, patients=PATIENTS, days=365, seed=11, end=END, progress=False)
            pid = "demo-0001"
            t0 = time.perf_counter()
            R.write_report(store, pid, Path(tmp) / "first.html", period_to=END)
            out["first report in a process, imports included (s)"] = time.perf_counter() - t0
            times, ref = [], []
            for i in range(REPEAT):
                r = R.write_report(store, pid, Path(tmp) / f"r{i}.html", period_to=END)
                times.append(r.seconds)
                ref.append(_write_html(store, pid, Path(tmp) / f"plotly{i}.html"))
            size = r.bytes
            out["one report: seconds"] = statistics.median(times)
            out["plotly write_html, same figures: seconds"] = statistics.median(ref)
            out["one report / write_html (time)"] = statistics.median(times) / statistics.median(
                ref
            )
            out["one report: MB"] = size / 1e6
            out[f"  of which plotly.js ({bundle.filename}) MB"] = len(bundle.source) / 1e6
            out["plotly write_html page: MB"] = (Path(tmp) / "plotly0.html").stat().st_size / 1e6
            pseudo = R.write_report(
                store, pid, Path(tmp) / "p.html", period_to=END, pseudonymise=True
            )
            out["one report, pseudonymised: seconds"] = pseudo.seconds
            t0 = time.perf_counter()
            results = R.write_reports(store, Path(tmp) / "all", period_to=END, progress=False)
            took = time.perf_counter() - t0
            n = len(results)
            out[f"--all, {n} patients: seconds"] = took
            out[f"--all, {n} patients: seconds per report"] = took / n
            out[f"--all, {n} patients: MB per report"] = sum(x.bytes for x in results) / n / 1e6
            out["--all: plotly.js once for the folder, MB"] = (
                Path(tmp) / "all" / bundle.filename
            ).stat().st_size / 1e6
    return out


if __name__ == "__main__":
    for k, v in run().items():
        print(f"  {k:<52} {v:>8.2f}" if isinstance(v, float) else f"  {k:<52} {v:>8}")
