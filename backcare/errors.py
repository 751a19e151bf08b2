"""The package's own exception types. Messages name the field, the value and what is allowed."""

from __future__ import annotations

from typing import Any


class BackcareError(Exception):
    """Base class for every error backcare raises on purpose."""


class ValidationError(BackcareError, ValueError):
    """Input refused where it entered; nothing was written."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        if type(value).__module__ == "numpy" and hasattr(value, "item"):
            value = value.item()  # show 12, not np.int64(12)
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field}: {shown} is not allowed; expected {allowed}")


class NotFoundError(BackcareError, LookupError):
    """A patient, programme or session that the store does not hold."""

    def __init__(self, field: str, value: Any, allowed: str = "an existing record") -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}: {value!r} not found; expected {allowed}")


class ConflictError(BackcareError):
    """A write that would contradict what is already stored (e.g. a reused session id)."""


class CatalogError(BackcareError):
    """A catalog file that cannot be used; the message names the file, exercise and field."""


class BundleError(BackcareError):
    """A patient bundle that is damaged, altered or of an unknown version."""
