"""Validators for values the CLI passes on: files to write, day ranges and bounds, database
URLs, text a database cannot hold, time zones."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from backcare.domain import rules as R
from backcare.errors import ValidationError


def test_out_file_must_name_a_file(tmp_path):
    assert R.check_out_file("out", tmp_path / "a.zip") == tmp_path / "a.zip"
    assert R.check_out_file("out", tmp_path / "new" / "a.zip") == tmp_path / "new" / "a.zip"
    for bad in ("", ".", "..", str(tmp_path), f"{tmp_path}/", None):
        with pytest.raises(ValidationError, match="^out: .* expected a file name to write"):
            R.check_out_file("out", bad)
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ValidationError):  # a "folder" that is a file
        R.check_out_file("out", blocker / "a.zip")


def test_day_range_and_bounds():
    d1, d2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
    assert R.check_day_range(d1, d2) == (d1, d2)
    assert R.check_day_range(d1, d1) == (d1, d1)
    assert R.check_day_range(None, d1) == (None, d1)
    with pytest.raises(ValidationError) as exc:
        R.check_day_range(d2, d1, ("--from", "--to"))
    assert str(exc.value) == (
        "--from: '2026-03-02' is not allowed; expected a day on or before --to (2026-03-01)"
    )
    assert R.check_day_bound("on", "2199-12-31") == dt.date(2199, 12, 31)
    assert R.check_day_bound("on", dt.date(1900, 1, 1)) == dt.date(1900, 1, 1)
    for bad in ("1899-12-31", "2200-01-01", dt.date(1, 1, 1), dt.date(9999, 12, 31), "soon"):
        with pytest.raises(ValidationError, match="from 1900-01-01 to 2199-12-31"):
            R.check_day_bound("on", bad)


@pytest.mark.parametrize(
    "url",
    ["sqlite:///data/x.db", "sqlite://", "postgresql://u:p@h/db", "postgresql+psycopg://h/db"],
)
def test_database_urls_of_sqlite_and_postgresql_pass(url):
    assert R.check_db_url("db", url) == url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mysql://u:pw@h/db", "'mysql://...@h/db'"),
        ("oracle://h", "'oracle://h'"),
        ("data/x.db", "'data/x.db'"),
        ("postgresql+psycopg2://h/db", "'postgresql+psycopg2://h/db'"),
    ],
)
def test_database_urls_of_other_backends_are_refused_without_their_password(url, shown):
    with pytest.raises(ValidationError) as exc:
        R.check_db_url("db", url)
    assert str(exc.value).startswith(f"db: {shown} is not allowed; expected sqlite:///PATH")


def test_text_without_nul_or_unpaired_surrogates():
    assert R.check_text("notes", "ça va 😀") == "ça va 😀"  # a paired character is fine
    for bad in ("a\x00b", "a\udc80b", "\ud83d"):
        with pytest.raises(ValidationError, match="without NUL characters or unpaired surrogates"):
            R.check_text("notes", bad)
    col = pd.Series(["ok", None, "x\ud800"], name="notes", dtype=object)
    with pytest.raises(ValidationError, match=r"^s\[2\]\.notes: "):
        R.text_column("s", col)


def test_time_zone_names_too_long_or_unknown():
    assert R.is_timezone("Europe/London")
    assert not R.is_timezone("Europe/" + "x" * 300)  # the OS refuses the file name: no OSError
    assert not R.is_timezone("Nowhere/Else")
    assert not R.is_timezone("Europe/Lon\x00don")


def test_times_overflowing_on_conversion_to_utc_are_refused():
    east = dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    with pytest.raises(ValidationError, match="^started_at: '0001-01-01T00:30:00\\+05:00'"):
        R.check_datetime("started_at", east)
