"""Every validator of backcare's input, each rule in two forms side by side.

The scalar form (``check_*``) checks one value (a single write) and returns it cleaned; the
column form (``*_column``) checks a whole pandas Series at once (bulk loading) and returns it
cleaned. Both forms of a rule share its limits and the words saying what is allowed, and both
raise ValidationError naming the field (for a column: ``frame[row].column`` of the first bad
row), the value and what is allowed.

Column forms read values as a CSV file holds them: numbers, days, times and True/False may
be text, a missing text cell is empty text, and a day may be a timestamp at midnight (pandas
holds days as timestamps). Times are parsed as ISO 8601 whatever their precision.
"""

from __future__ import annotations

import datetime as dt
import numbers
import os
import re
import zoneinfo
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeGuard, overload

from backcare.errors import ValidationError

if TYPE_CHECKING:  # pandas is imported where a column is checked: the scalar forms stay light
    import pandas as pd

# ---- limits shared by both forms ---------------------------------------------------------------
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
ID_ALLOWED = "1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
MAX_TEXT = 5000  # free text: session notes, programme notes
NAME_CHARS = 200  # a patient's name, an author
ANNOTATION_CHARS = 4000  # the text of a timeline annotation
FIRST_DAY = dt.date(1900, 1, 1)
DAY_SLACK = dt.timedelta(days=1)  # a user east of the server's time zone may already be "tomorrow"
CLOCK_SLACK = dt.timedelta(minutes=5)  # clocks of devices and server disagree a little
DAY_ALLOWED = "a date (YYYY-MM-DD) not in the future"
TIMEZONE_CHARS = 64  # the longest IANA name is 32 characters; the store keeps 64
TIMEZONE_ALLOWED = "an IANA time zone name such as Europe/London"
BOOL_ALLOWED = "True or False"
_BOOL_TEXT = {"true": True, "false": False}
_OFFSET_RE = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"  # an ISO 8601 time that says its offset from UTC


def int_allowed(low: int, high: int, optional: bool = False) -> str:
    """What a whole-number field allows, in words."""
    return f"a whole number from {low} to {high}" + (" or empty" if optional else "")


def text_allowed(max_len: int, empty: bool = True) -> str:
    """What a text field allows, in words."""
    return (
        f"text of at most {max_len} characters"
        + ("" if empty else ", not empty")
        + ", without NUL characters or unpaired surrogates"
    )


# Characters no store can hold: NUL (PostgreSQL text refuses it) and unpaired UTF-16
# surrogates (not encodable as UTF-8, so neither SQLite nor PostgreSQL can store them).
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")


def choice_allowed(choices: Iterable[str]) -> str:
    """What a field with a fixed set of values allows, in words."""
    return "one of " + ", ".join(choices)


def codes_allowed(choices: Iterable[str], *, column: bool = False) -> str:
    """What a field holding several codes allows, in words (in a column: comma-separated text)."""
    return ("comma-separated" if column else "a list of") + " codes from " + ", ".join(choices)


def datetime_allowed(optional: bool = False) -> str:
    """What a date-and-time field allows, in words."""
    return "a timezone-aware date and time (ISO 8601) from 1900 on, not in the future" + (
        " or empty" if optional else ""
    )


def not_before_allowed(earlier_name: str) -> str:
    """What a time that must not precede another allows, in words."""
    return f"a time at or after {earlier_name}"


# ---- column helpers ----------------------------------------------------------------------------
def refuse_rows(frame: str, values: pd.Series, bad: pd.Series, allowed: str) -> None:
    """Raise ValidationError naming frame[row].column and the value of the first bad row, if any."""
    flags = bad.to_numpy(dtype=bool, na_value=False)
    if flags.any():
        pos = int(flags.nonzero()[0][0])
        raise ValidationError(f"{frame}[{pos}].{values.name}", values.iloc[pos], allowed)


def _is_text(values: pd.Series) -> pd.Series:
    """True where the value is a str."""
    import pandas as pd

    if isinstance(values.dtype, pd.StringDtype):
        return values.notna()
    return values.map(lambda v: isinstance(v, str)).astype(bool)


def _filled_text(values: pd.Series) -> pd.Series:
    """values as an object column with missing cells as empty text."""
    return values.astype(object).where(values.notna(), "")


# ---- identifiers -------------------------------------------------------------------------------
def check_id(field: str, value: Any) -> str:
    """value if it is a usable identifier."""
    if not isinstance(value, str) or not ID_RE.match(value):
        raise ValidationError(field, value, ID_ALLOWED)
    return value


def id_column(frame: str, values: pd.Series, *, unique: bool = False) -> pd.Series:
    """values if every one is a usable identifier (and, if unique, none repeats)."""
    ok = _is_text(values)
    ok &= values.astype("str").str.fullmatch(ID_RE.pattern[1:-1]).fillna(False).astype(bool)
    refuse_rows(frame, values, ~ok, ID_ALLOWED)
    if unique:
        refuse_rows(frame, values, values.duplicated(), "each id once")
    return values


# ---- whole numbers -----------------------------------------------------------------------------
@overload
def check_int(
    field: str, value: Any, low: int, high: int, *, optional: Literal[False] = False
) -> int: ...
@overload
def check_int(field: str, value: Any, low: int, high: int, *, optional: bool) -> int | None: ...
def check_int(field: str, value: Any, low: int, high: int, *, optional: bool = False) -> int | None:
    """value as int if it is a whole number in [low, high] (None allowed if optional)."""
    if value is None and optional:
        return None
    allowed = int_allowed(low, high, optional)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValidationError(field, value, allowed)
    number = int(value)
    if not low <= number <= high:
        raise ValidationError(field, number, allowed)
    return number


def int_column(
    frame: str, values: pd.Series, low: int, high: int, *, optional: bool = False
) -> pd.Series:
    """values as Int64 if each is a whole number in [low, high] (missing allowed if optional)."""
    import pandas as pd

    num = pd.to_numeric(values, errors="coerce")
    bad = (num.isna() & values.notna()) if optional else num.isna()
    bad |= num.notna() & ((num % 1 != 0) | (num < low) | (num > high))
    if values.dtype == bool:
        bad |= True
    elif values.dtype == object:
        bad |= values.map(lambda v: isinstance(v, bool)).astype(bool)
    refuse_rows(frame, values, bad, int_allowed(low, high, optional))
    return num.astype("Int64")


# ---- True / False ------------------------------------------------------------------------------
def check_bool(field: str, value: Any) -> bool:
    """value if it is a real bool."""
    if not isinstance(value, bool):
        raise ValidationError(field, value, BOOL_ALLOWED)
    return value


def bool_column(frame: str, values: pd.Series) -> pd.Series:
    """values as bool if every one is True or False (or the text 'true' / 'false', any case)."""
    import numpy as np

    if values.dtype == bool:
        return values
    parsed = values.map(
        lambda v: bool(v) if isinstance(v, (bool, np.bool_)) else _BOOL_TEXT.get(str(v).lower())
    )
    refuse_rows(frame, values, parsed.isna(), BOOL_ALLOWED)
    return parsed.astype(bool)


# ---- text --------------------------------------------------------------------------------------
def check_text(field: str, value: Any, *, max_len: int = MAX_TEXT, empty: bool = True) -> str:
    """value if it is a str of at most max_len characters (None is "" if empty is allowed)."""
    if value is None and empty:
        return ""
    if (
        not isinstance(value, str)
        or len(value) > max_len
        or (not empty and not value.strip())
        or _UNSTORABLE_RE.search(value)
    ):
        raise ValidationError(field, value, text_allowed(max_len, empty))
    return value


def text_column(
    frame: str, values: pd.Series, *, max_len: int = MAX_TEXT, empty: bool = True
) -> pd.Series:
    """values (missing as empty text) if every one is a str of at most max_len characters."""
    filled = _filled_text(values)
    text = _is_text(filled)
    # unpaired surrogates first: pandas' str dtype (pyarrow) cannot even hold them
    unstorable = filled.where(text, "").map(lambda v: _UNSTORABLE_RE.search(v) is not None)
    unstorable = unstorable.astype(bool)
    as_str = filled.where(text & ~unstorable, "").astype(str)
    bad = ~text | unstorable | (as_str.str.len() > max_len)
    if not empty:
        bad |= as_str.str.strip() == ""
    refuse_rows(frame, values, bad, text_allowed(max_len, empty))
    return filled


# ---- one of a fixed set ------------------------------------------------------------------------
def check_choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    """value if it is one of choices."""
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(field, value, choice_allowed(choices))
    return value


def choice_column(frame: str, values: pd.Series, choices: tuple[str, ...]) -> pd.Series:
    """values (missing as empty text) if every one is one of choices."""
    filled = _filled_text(values)
    refuse_rows(frame, values, ~filled.isin(choices), choice_allowed(choices))
    return filled


def check_codes(field: str, value: Any, choices: tuple[str, ...]) -> tuple[str, ...]:
    """value's codes, sorted and each once, if value is a list of codes from choices."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError(field, value, codes_allowed(choices))
    codes = list(value)
    for code in codes:
        if not isinstance(code, str) or code not in choices:
            raise ValidationError(field, code, codes_allowed(choices))
    return tuple(sorted(set(codes)))


def codes_column(frame: str, values: pd.Series, choices: tuple[str, ...]) -> pd.Series:
    """values (missing as empty text) if each is comma-separated codes from choices."""
    filled = _filled_text(values)
    text = _is_text(filled)
    some = text & (filled != "")
    bad = ~text
    if some.any():
        known = set(choices)
        bad |= filled.where(some, "").map(lambda v: any(c not in known for c in v.split(",") if c))
    refuse_rows(frame, values, bad.astype(bool), codes_allowed(choices, column=True))
    return filled


# ---- time zones --------------------------------------------------------------------------------
def is_timezone(name: object) -> TypeGuard[str]:
    """True if name is an IANA time zone name this machine knows."""
    if not isinstance(name, str) or not name or name.startswith(("/", ".")):
        return False
    if len(name) > TIMEZONE_CHARS or _UNSTORABLE_RE.search(name):
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: name too long
        return False
    return True


def check_timezone(field: str, value: Any) -> str:
    """value if it is an IANA time zone name."""
    if is_timezone(value):
        return value
    raise ValidationError(field, value, TIMEZONE_ALLOWED)


def timezone_column(frame: str, values: pd.Series) -> pd.Series:
    """values if every one is an IANA time zone name."""
    known = {v: is_timezone(v) for v in values.dropna().unique()}
    refuse_rows(
        frame, values, ~values.map(lambda v: known.get(v, False)).astype(bool), TIMEZONE_ALLOWED
    )
    return values


# ---- days --------------------------------------------------------------------------------------
def _last_day(today: dt.date | None) -> dt.date:
    return (today or dt.date.today()) + DAY_SLACK


def check_date(field: str, value: Any, *, today: dt.date | None = None) -> dt.date:
    """A date not in the future (one day of slack) nor before 1900, from a date or 'YYYY-MM-DD'."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise ValidationError(field, value, DAY_ALLOWED) from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError(field, value, DAY_ALLOWED)
    if not FIRST_DAY <= value <= _last_day(today):
        raise ValidationError(field, value, DAY_ALLOWED)
    return value


def date_column(frame: str, values: pd.Series, *, today: dt.date | None = None) -> pd.Series:
    """values as dates (dt.date objects) if every one is a day not in the future nor before 1900."""
    import pandas as pd

    days = pd.to_datetime(values, format="ISO8601", errors="coerce")
    if isinstance(days.dtype, pd.DatetimeTZDtype):
        days = days.dt.tz_localize(None)  # a zone-aware timestamp is no day: refused below
        bad = values.notna()
    else:
        bad = days.isna()
    bad |= days.notna() & (days != days.dt.normalize())
    bad |= (days < pd.Timestamp(FIRST_DAY)) | (days > pd.Timestamp(_last_day(today)))
    refuse_rows(frame, values, bad, DAY_ALLOWED)
    return days.dt.date


# ---- times -------------------------------------------------------------------------------------
_FIRST_TIME = dt.datetime.combine(FIRST_DAY, dt.time(), dt.UTC)


def _latest_time() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + CLOCK_SLACK


@overload
def check_datetime(field: str, value: Any, *, optional: Literal[False] = False) -> dt.datetime: ...
@overload
def check_datetime(field: str, value: Any, *, optional: bool) -> dt.datetime | None: ...
def check_datetime(field: str, value: Any, *, optional: bool = False) -> dt.datetime | None:
    """An aware datetime (or ISO 8601 text with an offset) as UTC, not in the future; not naive."""
    if value is None and optional:
        return None
    allowed = datetime_allowed(optional)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(field, value, allowed) from None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationError(field, value, allowed)
    try:
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):  # e.g. year 1 east of UTC, year 9999 west of it
        raise ValidationError(field, value.isoformat(), allowed) from None
    if not _FIRST_TIME <= utc <= _latest_time():
        raise ValidationError(field, utc, allowed)
    return utc


def _naive(values: pd.Series) -> pd.Series:
    """True where a value is a time without an offset from UTC (text or datetime)."""
    import pandas as pd

    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return pd.Series(False, index=values.index)
    if values.dtype.kind == "M":
        return values.notna()
    obj = values.astype(object)
    text = _is_text(obj)
    naive = pd.Series(False, index=values.index)
    if text.any():
        naive[text] = ~obj[text].astype(str).str.contains(_OFFSET_RE, regex=True)
    other = ~text & obj.notna()
    if other.any():
        naive[other] = obj[other].map(lambda v: getattr(v, "tzinfo", None) is None).astype(bool)
    return naive


def datetime_column(frame: str, values: pd.Series, *, optional: bool = False) -> pd.Series:
    """values as datetime64[ns, UTC] if each is an aware time not in the future.

    Text is ISO 8601 at any precision."""
    import pandas as pd

    ts = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
    bad = (ts.isna() & values.notna()) | _naive(values)
    bad |= (ts < pd.Timestamp(_FIRST_TIME)) | (ts > pd.Timestamp(_latest_time()))
    if not optional:
        bad |= ts.isna()
    refuse_rows(frame, values, bad, datetime_allowed(optional))
    return ts.astype("datetime64[ns, UTC]")  # in range now: from 1900 to the clock's slack


def check_not_before(field: str, value: Any, earlier: Any, earlier_name: str) -> None:
    """ValidationError if value comes before earlier (both given); else nothing."""
    if value is not None and earlier is not None and value < earlier:
        raise ValidationError(field, value, f"{not_before_allowed(earlier_name)} ({earlier})")


def not_before_column(frame: str, values: pd.Series, earlier: pd.Series, earlier_name: str) -> None:
    """ValidationError if a value comes before the earlier column's value in its row."""
    refuse_rows(frame, values, (values < earlier).fillna(False), not_before_allowed(earlier_name))


# ---- day ranges --------------------------------------------------------------------------------
def check_day_range(
    start: dt.date | None,
    end: dt.date | None,
    fields: tuple[str, str] = ("period_from", "period_to"),
) -> tuple[dt.date | None, dt.date | None]:
    """(start, end) if start is not after end (either may be open: None)."""
    if start is not None and end is not None and start > end:
        raise ValidationError(
            fields[0], start.isoformat(), f"a day on or before {fields[1]} ({end})"
        )
    return start, end


# ---- files written -----------------------------------------------------------------------------
OUT_FILE_ALLOWED = "a file name to write (not a folder), in a folder that can be written"


def check_out_file(field: str, value: Any) -> Path:
    """value as a Path if it names a file to write: not empty, not a folder, nor inside a file.

    Whether the file system then accepts the write (e.g. /proc) is known only when writing:
    writers turn that OSError into a ValidationError on the same field."""
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise ValidationError(field, value, OUT_FILE_ALLOWED)
    path = Path(value)
    if path.name in ("", ".", "..") or str(value).endswith(("/", "\\")) or path.is_dir():
        raise ValidationError(field, str(value), OUT_FILE_ALLOWED)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise ValidationError(field, str(value), OUT_FILE_ALLOWED)
    return path


# ---- days given as command options -------------------------------------------------------------
LAST_BOUND_DAY = dt.date(2199, 12, 31)  # far beyond any record; pandas' clock ends in 2262
DAY_BOUND_ALLOWED = f"a date (YYYY-MM-DD) from {FIRST_DAY} to {LAST_BOUND_DAY}"


def check_day_bound(field: str, value: Any) -> dt.date:
    """A day that bounds a period (report, export, overview): 1900-01-01 to 2199-12-31."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise ValidationError(field, value, DAY_BOUND_ALLOWED) from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError(field, value, DAY_BOUND_ALLOWED)
    if not FIRST_DAY <= value <= LAST_BOUND_DAY:
        raise ValidationError(field, value.isoformat(), DAY_BOUND_ALLOWED)
    return value


# ---- database URLs -----------------------------------------------------------------------------
DB_URL_ALLOWED = (
    "sqlite:///PATH (a SQLite file), sqlite:// (in memory) or "
    "postgresql://USER:PASSWORD@HOST/DATABASE"
)
_DB_URL_RE = re.compile(r"^(sqlite(\+pysqlite)?|postgresql(\+psycopg)?)://")


def check_db_url(field: str, value: Any) -> str:
    """value if it is a database URL of a backend backcare runs on (SQLite or PostgreSQL)."""
    if not isinstance(value, str) or not _DB_URL_RE.match(value) or _UNSTORABLE_RE.search(value):
        shown = value
        if isinstance(value, str) and "@" in value:  # never echo a password
            shown = value.split("://", 1)[0] + "://...@" + value.rsplit("@", 1)[1]
        raise ValidationError(field, shown, DB_URL_ALLOWED)
    return value
