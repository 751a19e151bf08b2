"""Committed notebooks are clean: no outputs, no execution counts, no saved widget state.

Outputs and widget state can hold someone's health data (names, pain scores, notes); a
notebook committed with them would publish it. Clear a notebook before committing with
`jupyter nbconvert --clear-output --inplace notebooks/NAME.ipynb` (and, in JupyterLab,
do not use "Save Widget State Automatically")."""

from __future__ import annotations

import nbformat
import pytest

from tests.support import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_checklist_notebook_is_there():
    assert "01_today.ipynb" in [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebook_is_valid_and_carries_no_outputs_or_state(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    with_outputs = [i for i, c in code if c.outputs]
    counted = [i for i, c in code if c.execution_count is not None]
    assert not with_outputs, (
        f"{path.name}: cells {with_outputs} carry outputs; clear them before committing"
    )
    assert not counted, (
        f"{path.name}: cells {counted} carry execution counts; clear them before committing"
    )
    assert "widgets" not in nb.metadata, f"{path.name}: saved widget state in the notebook metadata"
    timed = [i for i, c in enumerate(nb.cells) if "execution" in c.metadata]
    assert not timed, f"{path.name}: cells {timed} carry execution timings"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
