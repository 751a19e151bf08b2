"""The plotly.js a report embeds: plotly's cartesian bundle (1.5 MB), not the full one (4.8 MB).

Every figure a report draws uses cartesian trace types only (scatter, bar, heatmap), so the
report carries ``plotly-cartesian.min.js`` from the npm package ``plotly.js-cartesian-dist-min``
(MIT, the same version as the plotly.js that plotly.py bundles). `make` installs it with
``npm ci`` and copies it, with its licence, into the package (``backcare/static/``, git-ignored),
so a wheel built after `make` ships it; a checkout without that copy finds it in
``node_modules/``.

Without the bundle (a backcare installed without `make`), or when its version differs from
plotly.py's plotly.js (the figures' JSON is written for that version), reports embed plotly.py's
full bundle instead and say so in one line on stderr: bigger, never broken. A figure whose
trace type the bundle lacks is refused with a ReportError naming it, never drawn as a blank
box (``check_traces``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PACKAGE_STATIC = Path(__file__).resolve().parents[1] / "static"
CARTESIAN_FILE = "plotly-cartesian.min.js"
NPM_PACKAGE = "plotly.js-cartesian-dist-min"
_CHECKOUT_COPY = Path(__file__).resolve().parents[2] / "node_modules" / NPM_PACKAGE / CARTESIAN_FILE
# the licence header every plotly.js bundle opens with: "* plotly.js v4.1.1" (full) or
# "* plotly.js (cartesian - minified) v4.1.1"
SIGNATURE = "* plotly.js "
_VERSION = re.compile(r"\* plotly\.js (?:\([^)]*\) )?v(\d+\.\d+\.\d+)")
_TRACE = re.compile(r'moduleType:"trace",name:"(\w+)"')
# what plotly's own notebook renderer writes before plotly.js (no MathJax is fetched)
_CONFIG = "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"


@dataclass(frozen=True)
class PlotlyJS:
    """One plotly.js bundle: its file name in a report folder, source, version and trace types."""

    filename: str
    source: str
    version: str
    traces: frozenset[str]
    note: str = ""  # why this is not the cartesian bundle ("" when it is)

    @property
    def cartesian(self) -> bool:
        """True for plotly's cartesian bundle."""
        return self.filename == CARTESIAN_FILE

    def inline(self) -> str:
        """<script> elements embedding the bundle (a page that needs no other file)."""
        return f'{_CONFIG}\n<script type="text/javascript">{self.source}</script>'

    def linked(self) -> str:
        """<script> elements loading the bundle from its file beside the page."""
        return f'{_CONFIG}\n<script type="text/javascript" src="{self.filename}"></script>'


def bundle_version(source: str) -> str:
    """The plotly.js version in a bundle's licence header ('' if there is none)."""
    m = _VERSION.search(source[:500])
    return m.group(1) if m else ""


def bundle_traces(source: str) -> frozenset[str]:
    """The trace types a plotly.js bundle registers (parsed from the bundle itself)."""
    return frozenset(_TRACE.findall(source))


def cartesian_path() -> Path | None:
    """Where the cartesian bundle is: the package's copy, else a checkout's node_modules."""
    for path in (PACKAGE_STATIC / CARTESIAN_FILE, _CHECKOUT_COPY):
        if path.is_file():
            return path
    return None


@cache
def plotly_js() -> PlotlyJS:
    """The bundle reports embed: the cartesian one, or plotly.py's full one with a note why."""
    import plotly.offline

    wanted = plotly.offline.get_plotlyjs_version()
    path = cartesian_path()
    note = ""
    if path is None:
        note = (
            f"plotly.js's cartesian bundle ({NPM_PACKAGE}) is not installed (run make, "
            "which runs npm ci and copies it into backcare/static/); reports embed plotly's "
            "full plotly.js (4.8 MB instead of 1.5 MB)"
        )
    else:
        source = path.read_text(encoding="utf-8")
        version = bundle_version(source)
        if version == wanted:
            return PlotlyJS(CARTESIAN_FILE, source, version, bundle_traces(source))
        note = (
            f"{path} is plotly.js {version or '(unknown version)'}, plotly draws for "
            f"{wanted}; reports embed plotly's full plotly.js (4.8 MB instead of 1.5 MB)"
        )
    full = plotly.offline.get_plotlyjs()
    return PlotlyJS("plotly.min.js", full, wanted, bundle_traces(full), note)


def trace_types(figures: Iterable[Any]) -> set[str]:
    """Every trace type the figures use (plotly's default type is scatter)."""
    return {tr.type or "scatter" for fig in figures for tr in fig.data}


def check_traces(figures: Iterable[Any], bundle: PlotlyJS) -> None:
    """ReportError if a figure uses a trace type the bundle cannot draw."""
    missing = sorted(trace_types(figures) - bundle.traces)
    if missing:
        from backcare.reports import ReportError

        raise ReportError(
            f"the report's figures use trace type(s) {', '.join(missing)}, which "
            f"{bundle.filename} cannot draw; not written"
        )
