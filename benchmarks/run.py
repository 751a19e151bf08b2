"""Run every benchmark and print its figures, each with a ratio measured in the same run.

    make bench        (or: .venv/bin/python benchmarks/run.py)
    make bench-large  (or: .venv/bin/python benchmarks/run.py --large): sections 3 and 10 only,
                      at 10,000 patients x 365 days (BENCH_PATIENTS, if set, wins)

1. saving one 8-exercise session: backcare vs raw sqlite3 (same durability settings)
2. one patient's dashboard: backcare vs DuckDB on Parquet, 365 days of the clinic store and
   3,650 days of a small separate store (bench_dashboard.py)
3. clinic overview, 1,000 patients x 365 days: backcare vs DuckDB on Parquet
4. JSON size of every trends figure for 1, 10 and 100 patient-years
5. peak memory of 2 and 3 (each measured in a fresh process)
6. per-patient reports (size and seconds) for one patient against plotly's write_html of the
   same figures, and for 100 patients (`report --all`, plotly.js once for the folder)
7. start-up: `import backcare` and `backcare --help` against a bare `python -c pass`
8. `backcare demo` rows/s against a plain executemany of the same rows
9. the app in Chromium: time to a usable checklist (open, reload) against plain Voila on a
   one-cell notebook, kernels left after reloads (bench_app.py)
10. the clinic store's bytes per patient-year against the same rows as CSV, and its split by
    table and index (bench_store.py)

The size of the clinic store is BENCH_PATIENTS x BENCH_DAYS (default 1,000 x 365). The first run
builds a cached store (BENCH_CACHE, default benchmarks/.cache, git-ignored) with backcare demo,
and its Parquet copy; `--large` builds its own (10,000 x 365: about 2.7 GB estimated, see
docs/performance.md for how long the first build takes). Never run by `make test`: timings
belong here, not in assertions.

Every run is kept: its figures go to BENCH_CACHE/runs/<date>-<time>-bench.json (or
-bench-large; written after each section, so a run stopped half-way keeps what it measured),
and a run that completes becomes BENCH_CACHE/runs/latest-bench.json (latest-bench-large.json).
Each figure is printed beside the same figure of a reference run and their ratio (this /
reference): by default the latest completed run of the same kind, or the file named by
BENCH_REFERENCE. A section measured at another size has another title, so it is compared only
with runs of that size."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


class Runs:
    """This run's figures, saved as they come, beside those of a reference run."""

    def __init__(self, folder: Path, reference: Path | None = None, kind: str = "bench") -> None:
        self.folder = folder
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{kind}"
        self.path = folder / f"{stamp}.json"
        n = 1
        while self.path.exists():  # two runs in one second
            n += 1
            self.path = folder / f"{stamp}-{n}.json"
        # make bench and make bench-large measure different sections: each its own latest
        self.latest = folder / f"latest-{kind}.json"
        ref = reference if reference is not None else self.latest
        self.reference: dict[str, Any] = json.loads(ref.read_text()) if ref.is_file() else {}
        self.reference_name = (
            f"{ref.name} ({self.reference.get('when', '?')})" if self.reference else "none"
        )
        self.figures: dict[str, Any] = {
            "when": time.strftime("%Y-%m-%d %H:%M"),
            "host": platform.node(),
            "commit": _commit(),
            "sections": {},
        }

    def add(self, title: str, rows: dict) -> list[tuple[str, Any, Any, float | None]]:
        """Keep a section's rows; each row with the reference's value and this / reference."""
        self.figures["sections"][title] = rows
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.figures, indent=1, default=_plain))
        before = self.reference.get("sections", {}).get(title, {})
        out = []
        for k, v in rows.items():
            ref = before.get(k)
            numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (v, ref))
            out.append((k, v, ref, v / ref if numbers and ref else None))
        return out

    def complete(self) -> None:
        """This run, finished, becomes the default reference of the next."""
        self.latest.write_text(self.path.read_text())


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (json writes those)."""
    return value.item() if hasattr(value, "item") else str(value)


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


RUNS: Runs | None = None


def _memory(script: str, which: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, script, "--memory", which],
        cwd=HERE,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[-2]), float(out[-1])


def _cell(v: Any) -> str:
    if v is None:
        return f"{'-':>10}"
    return f"{v:>10.2f}" if isinstance(v, float) else f"{v!s:>10}"


def _print(title: str, rows: dict) -> None:
    print(f"\n== {title}", flush=True)
    width = max([52, *(len(k) for k in rows)])
    compared = (
        RUNS.add(title, rows) if RUNS is not None else [(k, v, None, None) for k, v in rows.items()]
    )
    print(f"  {'':<{width}} {'this run':>10} {'reference':>10} {'ratio':>7}")
    for k, v, ref, ratio in compared:
        last = f"{ratio:>7.2f}" if ratio is not None else f"{'-':>7}"
        print(f"  {k:<{width}} {_cell(v)} {_cell(ref)} {last}", flush=True)


def _header(kind: str = "bench") -> None:
    global RUNS
    from common import CACHE

    reference = os.environ.get("BENCH_REFERENCE")
    RUNS = Runs(CACHE / "runs", Path(reference) if reference else None, kind)
    print(
        f"backcare benchmarks on {platform.node()}: {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"commit {RUNS.figures['commit']}",
        flush=True,
    )
    print(f"this run: {RUNS.path}; reference run: {RUNS.reference_name}", flush=True)


def large() -> None:
    """Clinic overview against DuckDB and store size at 10,000 patients (make bench-large)."""
    os.environ.setdefault("BENCH_PATIENTS", "10000")
    import bench_clinic
    import bench_store
    from common import DAYS, PATIENTS, clinic_db, parquet_dir, size_label

    _header("bench-large")
    print(f"clinic store {size_label()}: {clinic_db()}", flush=True)
    parquet_dir()
    _print(
        f"3. clinic overview, {size_label(PATIENTS, DAYS)} (ms; target ratio vs DuckDB < 1)",
        bench_clinic.run(),
    )
    _print(_store_title(), bench_store.run())
    if RUNS is not None:
        RUNS.complete()


def _store_title() -> str:
    from bench_store import TARGET
    from common import size_label

    return (
        f"10. store size, {size_label()} (bytes per patient-year; target store / CSV <= {TARGET:g})"
    )


def main() -> None:
    import bench_app
    import bench_clinic
    import bench_dashboard
    import bench_demo
    import bench_figures
    import bench_import
    import bench_report
    import bench_save
    import bench_store
    from common import clinic_db, parquet_dir, size_label

    _header()
    clinic_db()
    parquet_dir()
    _print(
        "1. save one 8-exercise session (ms; ratio = backcare / raw sqlite3, target <= 3)",
        bench_save.run(),
    )
    _print(
        "2. one patient's dashboard, 365 days, then 3,650 days "
        "(ms; target backcare <= 150; ratio = backcare / DuckDB)",
        bench_dashboard.run(),
    )
    _print(
        f"3. clinic overview, {size_label()} (ms; target ratio vs DuckDB < 1)", bench_clinic.run()
    )
    _print("4. figure JSON size (KB; target < 200 each)", bench_figures.run())
    mem = {}
    for script, label, kinds in (
        ("bench_dashboard.py", "dashboard", ("backcare", "duckdb")),
        ("bench_clinic.py", "clinic", ("backcare", "duckdb")),
    ):
        for kind in kinds:
            base, peak = _memory(script, kind)
            mem[f"{label} {kind} peak MB"] = peak
            mem[f"{label} {kind} above imports MB"] = peak - base
    mem["clinic backcare/duckdb peak ratio"] = (
        mem["clinic backcare peak MB"] / mem["clinic duckdb peak MB"]
    )
    mem["clinic backcare/duckdb work ratio"] = mem["clinic backcare above imports MB"] / max(
        mem["clinic duckdb above imports MB"], 1.0
    )
    _print("5. peak memory (RSS; target clinic backcare <= 2x DuckDB)", mem)
    _print(
        "6. per-patient reports, 1-year demo patients (reference: plotly's write_html)",
        bench_report.run(),
    )
    _print("7. start-up (ms; each a fresh process)", bench_import.run())
    _print(
        "8. backcare demo, 200 patients x 365 days (target: within 1.5x of plain executemany)",
        bench_demo.run(),
    )
    _print(
        "9. the app in Chromium (s to a usable checklist; target ratio app / plain Voila < 1)",
        bench_app.run(),
    )
    _print(_store_title(), bench_store.run())
    if RUNS is not None:
        RUNS.complete()


if __name__ == "__main__":
    large() if sys.argv[1:] == ["--large"] else main()
