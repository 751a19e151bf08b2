"""benchmarks/run.py keeps every run and prints each figure beside a reference run's."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

RUN_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture
def run(monkeypatch):
    """benchmarks/run.py as a module, without leaving its folder on sys.path."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    spec = importlib.util.spec_from_file_location("bench_run", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(out: str, key: str) -> list[str]:
    return next(line for line in out.splitlines() if line.strip().startswith(key)).split()[1:]


def test_each_figure_is_printed_beside_the_reference_runs_with_their_ratio(
    run, tmp_path, capsys, monkeypatch
):
    folder = tmp_path / "runs"
    first = run.Runs(folder)
    assert first.reference == {} and first.reference_name == "none"
    first.add("1. save", {"backcare_median_ms": 0.8, "n": 300})
    assert not first.latest.exists()  # not complete yet: not a reference
    first.complete()

    second = run.Runs(folder)
    assert second.path != first.path
    monkeypatch.setattr(run, "RUNS", second)
    run._print("1. save", {"backcare_median_ms": 1.2, "n": 300, "new_figure": 5.0})
    out = capsys.readouterr().out
    assert _row(out, "backcare_median_ms") == ["1.20", "0.80", "1.50"]  # 1.2 / 0.8
    assert _row(out, "n") == ["300", "300", "1.00"]
    assert _row(out, "new_figure") == ["5.00", "-", "-"]  # not in the reference run
    # saved as it was printed, before the run completes
    saved = json.loads(second.path.read_text())
    assert saved["sections"]["1. save"] == {"backcare_median_ms": 1.2, "n": 300, "new_figure": 5.0}
    assert json.loads(second.latest.read_text())["sections"]["1. save"]["n"] == 300
    assert json.loads(second.latest.read_text())["sections"]["1. save"][
        "backcare_median_ms"
    ] == pytest.approx(0.8)


def test_a_named_reference_run_is_used_instead_of_the_latest(run, tmp_path):
    folder = tmp_path / "runs"
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"when": "2026-11-23 21:58", "sections": {"s": {"x": 4.0}}}))
    runs = run.Runs(folder, old)
    assert runs.reference_name == "old.json (2026-11-23 21:58)"
    assert runs.add("s", {"x": 3.0}) == [("x", 3.0, 4.0, 0.75)]  # 3 / 4


def test_numpy_figures_are_saved_as_numbers(run, tmp_path):
    import numpy as np

    runs = run.Runs(tmp_path / "runs")
    runs.add("s", {"n": np.int64(7), "ms": np.float64(1.5)})
    assert json.loads(runs.path.read_text())["sections"]["s"] == {"n": 7, "ms": 1.5}
