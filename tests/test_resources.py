"""The notebooks that commands run ship inside the package; the checkout's notebooks/ holds
identical copies for JupyterLab users.

Why copies and a test rather than one file: the wheel can only carry files under backcare/,
JupyterLab users expect notebooks/ at the top of the checkout, and a symbolic link would break
on checkouts without link support and be replaced by a plain file when JupyterLab saves it."""

from __future__ import annotations

from backcare import resources
from tests.support import ROOT

PACKAGED = ROOT / "backcare" / "notebooks"


def test_the_commands_notebooks_are_package_data():
    assert (
        resources.APP_NOTEBOOK == PACKAGED / "01_today.ipynb" and resources.APP_NOTEBOOK.is_file()
    )
    assert resources.REPORT_NOTEBOOK == PACKAGED / "04_patient_report.ipynb"
    assert resources.REPORT_NOTEBOOK.is_file()


def test_the_report_runs_the_packaged_notebook():
    from backcare.reports import NOTEBOOK

    assert NOTEBOOK == resources.REPORT_NOTEBOOK


def test_the_checkout_notebooks_are_exact_copies_of_the_packaged_ones():
    top = {p.name: p.read_bytes() for p in (ROOT / "notebooks").glob("*.ipynb")}
    packaged = {p.name: p.read_bytes() for p in resources.packaged_notebooks()}
    assert {"01_today.ipynb", "04_patient_report.ipynb"} <= set(packaged)
    assert set(top) == set(packaged), (
        "run `make notebooks` to copy notebooks/*.ipynb into backcare/notebooks/"
    )
    differ = sorted(name for name in top if top[name] != packaged[name])
    assert not differ, (
        f"{differ} differ: run `make notebooks` to copy notebooks/*.ipynb into backcare/notebooks/"
    )


def test_packaged_notebooks_are_sorted_by_name():
    names = [p.name for p in resources.packaged_notebooks()]
    assert names == sorted(names) and names[0] == "01_today.ipynb"


def test_a_checkout_is_recognised_by_its_pyproject():
    assert resources.checkout_notebooks() == ROOT / "notebooks"
