"""Open a file in the browser with the network cut off (tests/e2e)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def open_offline(page: Any, path: Path) -> tuple[list[str], list[str]]:
    """Open path (a file) in page with every non-file request aborted; return the dialogs
    seen and the non-file requests tried (both lists keep filling while the page lives)."""
    dialogs: list[str] = []
    fetched: list[str] = []

    def on_dialog(d: Any) -> None:
        dialogs.append(d.message)
        d.dismiss()

    def on_route(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            fetched.append(route.request.url)
            route.abort()

    page.on("dialog", on_dialog)
    page.route("**/*", on_route)
    page.goto(path.as_uri())
    return dialogs, fetched
