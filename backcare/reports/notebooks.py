"""Any backcare notebook (the trends and clinic notebooks, with a physiotherapist's own notes)
as one self-contained HTML file to share: `backcare export-notebook`.

JupyterLab's "Save and Export Notebook As HTML" (and a plain `jupyter nbconvert --to html`)
cannot do this: the views are widgets, which an exported page shows only by loading a widget
manager from a CDN, and the page loads require.js and MathJax from CDNs too. Here the notebook
is run afresh with papermill in static mode (BACKCARE_STATIC=1: the views display plain HTML
and plotly figures instead of widgets; the store is opened read-only, as the notebooks do),
then converted with the report's template (backcare.reports.to_html): code hidden, plotly.js
embedded once by the offline renderer, nothing fetched from the network (checked before
writing). Every markdown cell, the physiotherapist's notes included, is kept as written;
outputs that are widgets (the pickers) are dropped, since a file cannot run them.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backcare.errors import ValidationError

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@dataclass
class NotebookExport:
    """One notebook exported: where, its size and how long it took."""

    path: Path
    bytes: int
    seconds: float


def _without_widgets(nb: Any) -> Any:
    """The notebook without outputs that only a live widget manager can show."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_MIME not in o.get("data", {})]
    return nb


def export_notebook(
    notebook: str | Path,
    out: str | Path,
    db_url: str,
    *,
    parameters: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> NotebookExport:
    """Run notebook (static mode, parameters injected) on the store at db_url and write it to out
    as self-contained HTML; raise ValidationError or ReportError with one line on failure."""
    from backcare.domain.rules import check_out_file
    from backcare.reports import ReportError, execute_report, to_html

    t0 = time.perf_counter()
    source = Path(notebook)
    if source.suffix != ".ipynb" or not source.is_file():
        raise ValidationError("notebook", str(notebook), "an existing .ipynb file")
    path = check_out_file("--out", out)
    nb = execute_report(dict(parameters or {}), db_url, notebook=source)
    html = to_html(_without_widgets(nb), title or source.stem.replace("_", " "))
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)  # never leave a half-written page under the final name
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return NotebookExport(path, path.stat().st_size, time.perf_counter() - t0)
