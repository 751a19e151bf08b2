"""Per-patient report: HTML size and time for a 1-year demo patient (normal and pseudonymised).

    .venv/bin/python benchmarks/bench_report.py

Each report starts a kernel (papermill), runs notebooks/04_patient_report.ipynb and exports
HTML. Times are per report in a warm process (the median of `REPEAT` runs); the first one
also pays for importing papermill and nbconvert, which `backcare report --all` pays once.
Never run by `make test`."""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backcare import report as R  # noqa: E402
from backcare.demo import fill_demo  # noqa: E402
from backcare.store import open_store  # noqa: E402

END = dt.date(2026, 6, 30)
REPEAT = 3


def run() -> dict[str, float | int | str]:
    """Figures for one 365-day demo patient: first-run seconds, then median s and MB per variant."""
    out: dict[str, float | int | str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'year.db'}"
        with open_store(url) as store:
            fill_demo(store, patients=1, days=365, seed=11, end=END, progress=False)
            pid = store.patients()["patient_id"].iloc[0]
            t0 = time.perf_counter()
            R.write_report(store, pid, Path(tmp) / "first.html", period_to=END)
            out["first report, imports included (s)"] = time.perf_counter() - t0
            for label, kw in (
                ("html", {}),
                ("html, pseudonymised", {"pseudonymise": True}),
                ("ipynb", {"fmt": "ipynb"}),
            ):
                times, sizes = [], []
                for i in range(REPEAT):
                    suffix = "ipynb" if kw.get("fmt") == "ipynb" else "html"
                    r = R.write_report(
                        store, pid, Path(tmp) / f"r{i}.{suffix}", period_to=END, **kw
                    )
                    times.append(r.seconds)
                    sizes.append(r.bytes)
                out[f"{label}: seconds per report"] = statistics.median(times)
                out[f"{label}: MB"] = max(sizes) / 1e6
    return out


if __name__ == "__main__":
    for k, v in run().items():
        print(f"  {k:<44} {v:>8.2f}" if isinstance(v, float) else f"  {k:<44} {v:>8}")
