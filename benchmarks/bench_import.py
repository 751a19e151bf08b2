"""Benchmark 7: start-up cost of `import backcare` and `backcare --help`, each a fresh process.

Reference: a bare `python -c pass` in the same run (what any Python command costs here)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPEAT = 7


def _median_s(cmd: list[str]) -> float:
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run() -> dict:
    exe = shutil.which("backcare") or str(Path(sys.executable).parent / "backcare")
    bare = _median_s([sys.executable, "-c", "pass"])
    imp = _median_s([sys.executable, "-c", "import backcare"])
    help_ = _median_s([exe, "--help"])
    return {
        "python -c pass ms": bare * 1e3,
        "import backcare ms": imp * 1e3,
        "backcare --help ms": help_ * 1e3,
        "import / bare python": imp / bare,
        "--help / bare python": help_ / bare,
    }


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:<24} {v:>8.2f}")
