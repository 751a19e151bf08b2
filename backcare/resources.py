"""Files that ship inside the backcare package, found wherever it is installed.

The notebooks that commands run (today's app, the report) and the notebooks a JupyterLab user
starts from live in backcare/notebooks/ as package data, so `backcare app`, `backcare report` and
`backcare lab` work from any folder, not only from a checkout. The top-level notebooks/ folder of
a checkout holds identical copies (tests/test_resources.py checks they stay identical)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
APP_NOTEBOOK = PACKAGE_NOTEBOOKS / "01_today.ipynb"
REPORT_NOTEBOOK = PACKAGE_NOTEBOOKS / "04_patient_report.ipynb"


def packaged_notebooks() -> list[Path]:
    """The notebooks shipped in the package, sorted by name."""
    return sorted(PACKAGE_NOTEBOOKS.glob("*.ipynb"))


def checkout_notebooks() -> Path | None:
    """The top-level notebooks/ folder when backcare runs from a checkout, else None.

    A checkout is recognised by the pyproject.toml beside the package; an installed backcare
    sits in site-packages, which has neither."""
    root = Path(__file__).resolve().parents[1]
    folder = root / "notebooks"
    if (root / "pyproject.toml").is_file() and folder.is_dir():
        return folder
    return None
