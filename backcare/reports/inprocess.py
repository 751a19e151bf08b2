"""Run a report notebook's cells in this process: no kernel, one namespace per report.

`backcare report` used to start a kernel per report (papermill): 3-4 s of start-up and imports
for every patient of `report --all`. The report notebook's code only reads the store and
displays what ``Report.show`` builds, so its cells are run here instead, in order, in a fresh
namespace, with the parameters injected as papermill injects them. What a cell displays is
captured as the notebook output a kernel would have produced: ``Report.show`` hands its HTML
and figures to ``publish``, which appends them to the running cell's outputs (inside a kernel,
with no capture running, it displays them as before); printed text becomes a stream output;
a cell's last expression, when not None, its result. A failing cell raises ReportError with
one line, as papermill's failure did.
"""

from __future__ import annotations

import ast
import contextlib
import io
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

MIME_HTML = "text/html"
MIME_PLOTLY = "application/vnd.plotly.v1+json"


@dataclass
class Capture:
    """The outputs of the cell being run, and whether figures keep plotly's JSON mimetype (the
    executed notebook needs it for JupyterLab; HTML needs only the figure's div and script)."""

    plotly_json: bool = True
    outputs: list[dict[str, Any]] = field(default_factory=list)
    figures: list[Any] = field(default_factory=list)  # every figure shown (trace types checked)


CAPTURE: ContextVar[Capture | None] = ContextVar("backcare_report_capture", default=None)


def capturing() -> bool:
    """True while a cell runs in process (what a cell displays is captured, not shown)."""
    return CAPTURE.get() is not None


def publish_html(html: str) -> None:
    """Display HTML: captured as the running cell's output, or shown in the kernel."""
    cap = CAPTURE.get()
    if cap is None:
        from IPython.display import HTML, display

        display(HTML(html))
        return
    cap.outputs.append(_display_data({MIME_HTML: html}))


def publish_figure(fig: Any) -> None:
    """Display a plotly figure: captured as its div and script (plotly.js comes once per page,
    from the page), or shown in the kernel through plotly's renderers."""
    cap = CAPTURE.get()
    if cap is None:
        from IPython.display import display

        display(fig)
        return
    from backcare.present.figures import figure_html

    data: dict[str, Any] = {MIME_HTML: figure_html(fig)}
    if cap.plotly_json:
        import plotly.io as pio

        data = {**pio.renderers["plotly_mimetype"].to_mimebundle(fig.to_dict()), **data}
    cap.figures.append(fig)
    cap.outputs.append(_display_data(data))


def _display_data(data: dict[str, Any]) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": {}}


@contextlib.contextmanager
def _capturing(cap: Capture) -> Iterator[None]:
    token = CAPTURE.set(cap)
    try:
        yield
    finally:
        CAPTURE.reset(token)


def _run(source: str, namespace: dict[str, Any], name: str) -> Any:
    """Execute source in namespace; return the value of its last line if that is an expression."""
    tree = ast.parse(source, filename=name)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body[-1].value)
        tree.body.pop()
    exec(compile(tree, name, "exec"), namespace)  # noqa: S102 - the package's own report notebook
    return eval(compile(last, name, "eval"), namespace) if last is not None else None  # noqa: S307


def run_notebook(nb: Any, *, plotly_json: bool = True) -> list[Any]:
    """Run nb's code cells in order in one fresh namespace, filling their outputs in place;
    return every figure shown. Raises ReportError with one line if a cell fails."""
    from IPython.core.formatters import DisplayFormatter

    from backcare.reports import ReportError

    namespace: dict[str, Any] = {"__name__": "__main__"}
    figures: list[Any] = []
    count = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        count += 1
        cap = Capture(plotly_json=plotly_json)
        out, err = io.StringIO(), io.StringIO()
        try:
            with (
                _capturing(cap),
                contextlib.redirect_stdout(out),
                contextlib.redirect_stderr(err),
            ):
                value = _run(cell.source, namespace, f"<report cell {index}>")
        except Exception as exc:  # any failure of the notebook's code: one line, as papermill's
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise ReportError(
                f"the report notebook failed: {type(exc).__name__}: {first}"
            ) from None
        outputs: list[dict[str, Any]] = []
        for name, stream in (("stdout", out), ("stderr", err)):
            if stream.getvalue():
                outputs.append({"output_type": "stream", "name": name, "text": stream.getvalue()})
        outputs += cap.outputs
        if value is not None:
            data, metadata = DisplayFormatter().format(value)
            outputs.append(
                {
                    "output_type": "execute_result",
                    "execution_count": count,
                    "data": data,
                    "metadata": metadata,
                }
            )
        cell.outputs = [_node(o) for o in outputs]
        cell.execution_count = count
        figures += cap.figures
    return figures


def _node(output: Mapping[str, Any]) -> Any:
    from nbformat import from_dict

    return from_dict(dict(output))
