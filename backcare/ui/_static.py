"""The files shipped in backcare/ui/static (ES modules and their CSS), read as text."""

from __future__ import annotations

from importlib import resources


def static_text(name: str) -> str:
    """The text of a file shipped in backcare/ui/static."""
    return (resources.files("backcare.ui") / "static" / name).read_text(encoding="utf-8")
