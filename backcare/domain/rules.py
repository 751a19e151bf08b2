"""Small validators shared by every write path. Each raises ValidationError on bad input."""

from __future__ import annotations

import datetime as dt
import numbers
import re
from typing import Any

from backcare.errors import ValidationError

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
ID_ALLOWED = "1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
MAX_TEXT = 5000


def check_id(field: str, value: Any) -> str:
    """Return value if it is a usable identifier."""
    if not isinstance(value, str) or not ID_RE.match(value):
        raise ValidationError(field, value, ID_ALLOWED)
    return value


def check_int(
    field: str, value: Any, low: int, high: int, *, optional: bool = False
) -> int | None:
    """Return value as int if it is a whole number in [low, high] (None allowed if optional)."""
    if value is None and optional:
        return None
    allowed = f"a whole number from {low} to {high}" + (" or None" if optional else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValidationError(field, value, allowed)
    value = int(value)
    if not low <= value <= high:
        raise ValidationError(field, value, allowed)
    return value


def check_number(
    field: str, value: Any, low: float, high: float, *, optional: bool = False
) -> float | None:
    """Return value as float if it is a finite number in [low, high]."""
    if value is None and optional:
        return None
    allowed = f"a number from {low:g} to {high:g}" + (" or None" if optional else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(field, value, allowed)
    value = float(value)
    if value != value or not low <= value <= high:
        raise ValidationError(field, value, allowed)
    return value


def check_bool(field: str, value: Any) -> bool:
    """Return value if it is a real bool."""
    if not isinstance(value, bool):
        raise ValidationError(field, value, "True or False")
    return value


def check_text(field: str, value: Any, *, max_len: int = MAX_TEXT, empty: bool = True) -> str:
    """Return value if it is a str of at most max_len characters."""
    if value is None and empty:
        return ""
    if not isinstance(value, str) or len(value) > max_len or (not empty and not value.strip()):
        allowed = f"text of at most {max_len} characters" + ("" if empty else ", not empty")
        raise ValidationError(field, value, allowed)
    return value


def check_choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return value if it is one of choices."""
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(field, value, "one of " + ", ".join(choices))
    return value


def check_date(field: str, value: Any, *, today: dt.date | None = None) -> dt.date:
    """Return a date not in the future; accepts date or ISO 'YYYY-MM-DD' text."""
    allowed = "a date (YYYY-MM-DD) not in the future"
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise ValidationError(field, value, allowed) from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError(field, value, allowed)
    if value < dt.date(1900, 1, 1):
        raise ValidationError(field, value, allowed)
    if value > (today or dt.date.today()) + dt.timedelta(days=1):
        # one day of slack: a user east of the server's time zone may already be "tomorrow"
        raise ValidationError(field, value, allowed)
    return value


def check_datetime(field: str, value: Any, *, optional: bool = False) -> dt.datetime | None:
    """Return an aware UTC datetime not in the future (naive values are refused)."""
    if value is None and optional:
        return None
    allowed = "a timezone-aware datetime not in the future" + (" or None" if optional else "")
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(field, value, allowed) from None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationError(field, value, allowed)
    value = value.astimezone(dt.UTC)
    if value > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
        raise ValidationError(field, value, allowed)
    return value
