"""The one HTML escaper and the small HTML helpers built on it (widgets, figures, reports).

Every argument that may carry user text is escaped; ``trusted`` arguments are HTML that
backcare built itself."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable

STYLES = {
    "info": ("#e8f0fe", "#1a73e8"),
    "success": ("#e6f4ea", "#188038"),
    "warning": ("#fef7e0", "#e37400"),
    "error": ("#fce8e6", "#c5221f"),
}
_PARAGRAPH_STYLES = {
    "caveat": "color:#555;font-size:0.9em;margin:0.2em 0 1em 0",
    "text": "margin:0.3em 0",
}


def _missing(value: object) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return type(value).__name__ == "NAType"  # pandas.NA, without importing pandas


def esc(value: object, limit: int | None = None) -> str:
    """value as HTML text: quotes escaped too, newlines as <br>, None / NaN / NA as nothing,
    cut to `limit` characters (ending in '…') when given."""
    s = "" if _missing(value) else str(value)
    if limit is not None and len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return html.escape(s, quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def paragraph(text: object, cls: str = "text") -> str:
    """text as an escaped paragraph of class backcare-{cls}; a 'caveat' is small and grey."""
    style = _PARAGRAPH_STYLES.get(cls, _PARAGRAPH_STYLES["text"])
    return f'<p class="backcare-{cls}" style="{style}">{esc(text)}</p>'


def message_html(kind: str, title: str, lines: Iterable[str] = (), *, trusted: str = "") -> str:
    """A coloured message box; title and lines are escaped, `trusted` is HTML we built ourselves."""
    bg, fg = STYLES[kind]
    role = "alert" if kind in ("error", "warning") else "status"
    body = "".join(f"<div>{esc(line)}</div>" for line in lines if line)
    return (
        f'<div class="backcare-msg backcare-{kind}" role="{role}" style="background:{bg};'
        f'border-left:4px solid {fg};padding:8px 12px;margin:6px 0;line-height:1.4">'
        f"<strong>{esc(title)}</strong>{body}{trusted}</div>"
    )


def picture_html(svg: str, alt: str, width: int = 200, cls: str = "backcare-picture") -> str:
    """An <img> of an SVG drawing (checked by the catalog when loaded), as a data: URL, so a
    page or report needs no other file; inside <img> an SVG never runs script. '' without svg."""
    if not svg:
        return ""
    import base64

    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (
        f'<img class="{esc(cls)}" src="data:image/svg+xml;base64,{data}" alt="{esc(alt)}" '
        f'width="{int(width)}" style="max-width:100%;height:auto">'
    )
