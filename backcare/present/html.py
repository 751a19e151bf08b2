"""Small HTML helpers shared by the widget views: every argument that may carry user text is escaped."""

from __future__ import annotations

import html
from collections.abc import Iterable

STYLES = {
    "info": ("#e8f0fe", "#1a73e8"),
    "success": ("#e6f4ea", "#188038"),
    "warning": ("#fef7e0", "#e37400"),
    "error": ("#fce8e6", "#c5221f"),
}


def esc(value: object) -> str:
    """value as text, HTML-escaped (quotes included): safe inside an HTML widget."""
    return html.escape(str(value), quote=True)


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
