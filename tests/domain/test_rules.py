"""backcare.domain.rules: every rule refuses the same values in its scalar and column forms,
with the same words, naming the field (a column: frame[row].column of the first bad row)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from backcare.domain import rules as R
from backcare.errors import ValidationError

TODAY = dt.date.today()
UTC = dt.UTC


def refused_by_scalar(call) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        call()
    return err.value


def refused_by_column(call) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        call()
    return err.value


# (rule, scalar call on one bad value, column call with that value in row 1, words expected)
SAME_RULE = [
    ("id", lambda v: R.check_id("x", v), lambda s: R.id_column("t", s), "a-b c", "letters, digits"),
    (
        "int too high",
        lambda v: R.check_int("x", v, 0, 10),
        lambda s: R.int_column("t", s, 0, 10),
        11,
        "a whole number from 0 to 10",
    ),
    (
        "int not whole",
        lambda v: R.check_int("x", v, 0, 10, optional=True),
        lambda s: R.int_column("t", s, 0, 10, optional=True),
        4.5,
        "a whole number from 0 to 10 or empty",
    ),
    (
        "int not a bool",
        lambda v: R.check_int("x", v, 0, 10),
        lambda s: R.int_column("t", s, 0, 10),
        True,
        "whole number",
    ),
    (
        "bool",
        lambda v: R.check_bool("x", v),
        lambda s: R.bool_column("t", s),
        "yes",
        "True or False",
    ),
    (
        "text too long",
        lambda v: R.check_text("x", v, max_len=3),
        lambda s: R.text_column("t", s, max_len=3),
        "abcd",
        "text of at most 3 characters",
    ),
    (
        "text blank",
        lambda v: R.check_text("x", v, max_len=9, empty=False),
        lambda s: R.text_column("t", s, max_len=9, empty=False),
        "  ",
        "text of at most 9 characters, not empty",
    ),
    (
        "choice",
        lambda v: R.check_choice("x", v, ("a", "b")),
        lambda s: R.choice_column("t", s, ("a", "b")),
        "c",
        "one of a, b",
    ),
    (
        "time zone",
        lambda v: R.check_timezone("x", v),
        lambda s: R.timezone_column("t", s),
        "Mars/Olympus",
        "IANA time zone",
    ),
    (
        "day in the future",
        lambda v: R.check_date("x", v),
        lambda s: R.date_column("t", s),
        (TODAY + dt.timedelta(days=2)).isoformat(),
        "a date (YYYY-MM-DD) not in the future",
    ),
    (
        "day not a date",
        lambda v: R.check_date("x", v),
        lambda s: R.date_column("t", s),
        "yesterday",
        "YYYY-MM-DD",
    ),
    (
        "day before 1900",
        lambda v: R.check_date("x", v),
        lambda s: R.date_column("t", s),
        "1899-12-31",
        "YYYY-MM-DD",
    ),
    (
        "time without offset",
        lambda v: R.check_datetime("x", v),
        lambda s: R.datetime_column("t", s),
        "2026-01-06T08:00:00",
        "timezone-aware",
    ),
    (
        "time in the future",
        lambda v: R.check_datetime("x", v),
        lambda s: R.datetime_column("t", s),
        (dt.datetime.now(UTC) + dt.timedelta(hours=1)).isoformat(),
        "not in the future",
    ),
    (
        "time before 1900",
        lambda v: R.check_datetime("x", v),
        lambda s: R.datetime_column("t", s),
        "1500-01-01T00:00:00Z",
        "from 1900 on",
    ),
]
GOOD = {  # a value every rule above takes, for row 0 of the column
    "id": "a-1",
    "int too high": 10,
    "int not whole": 0,
    "int not a bool": 3,
    "bool": True,
    "text too long": "abc",
    "text blank": "ok",
    "choice": "b",
    "time zone": "Europe/London",
    "day in the future": TODAY.isoformat(),
    "day not a date": "2026-01-05",
    "day before 1900": "1900-01-01",
    "time without offset": "2026-01-06T08:00:00Z",
    "time in the future": "2026-01-06T08:00:00+01:00",
    "time before 1900": "1900-01-01T00:00:00Z",
}


@pytest.mark.parametrize(
    ("rule", "scalar", "column", "bad", "words"), SAME_RULE, ids=[r[0] for r in SAME_RULE]
)
def test_scalar_and_column_forms_refuse_the_same_value_with_the_same_words(
    rule, scalar, column, bad, words
):
    one = refused_by_scalar(lambda: scalar(bad))
    assert one.field == "x" and words in one.allowed
    values = pd.Series([GOOD[rule], bad], name="c", dtype=object)
    many = refused_by_column(lambda: column(values))
    assert many.field == "t[1].c"  # the first bad row, by position
    assert many.allowed == one.allowed
    scalar(GOOD[rule])  # and both take the good value
    column(values.iloc[:1])


def test_codes_are_a_list_in_the_scalar_form_and_comma_separated_text_in_a_column():
    assert R.check_codes("flags", ["b", "a", "b"], ("a", "b")) == ("a", "b")
    assert (
        refused_by_scalar(lambda: R.check_codes("flags", ["c"], ("a", "b"))).allowed
        == "a list of codes from a, b"
    )
    # text is not a list, even the text of one code
    assert refused_by_scalar(lambda: R.check_codes("flags", "a", ("a", "b"))).value == "a"
    col = R.codes_column("s", pd.Series(["a,b", None, ""], name="flags"), ("a", "b"))
    assert col.tolist() == ["a,b", "", ""]
    err = refused_by_column(
        lambda: R.codes_column("s", pd.Series(["", "a,c"], name="flags"), ("a", "b"))
    )
    assert (err.field, err.value, err.allowed) == (
        "s[1].flags",
        "a,c",
        "comma-separated codes from a, b",
    )


def test_a_column_reads_values_as_a_csv_file_holds_them():
    assert R.int_column(
        "t", pd.Series(["3", None, 4.0], name="n"), 0, 10, optional=True
    ).tolist() == [3, pd.NA, 4]
    assert R.bool_column("t", pd.Series(["True", "false", True], name="b")).tolist() == [
        True,
        False,
        True,
    ]
    assert R.text_column("t", pd.Series([None, "x"], name="s")).tolist() == ["", "x"]
    days = R.date_column(
        "t", pd.Series([dt.date(2026, 1, 5), "2026-01-06", pd.Timestamp("2026-01-07")], name="d")
    )
    assert days.tolist() == [dt.date(2026, 1, 5), dt.date(2026, 1, 6), dt.date(2026, 1, 7)]
    # a timestamp is a day only at midnight
    err = refused_by_column(lambda: R.date_column("t", pd.Series(["2026-01-05T10:00"], name="d")))
    assert err.field == "t[0].d"


def test_times_parse_as_iso_8601_whatever_their_precision():
    values = pd.Series(
        [
            "2026-01-06T08:00:00+00:00",
            "2026-01-06T08:00:00.250000+00:00",
            None,
            "2026-01-06T09:30:00.5+01:00",
            "2026-01-06T08:00:00Z",
        ],
        name="at",
    )
    got = R.datetime_column("t", values, optional=True)
    assert str(got.dtype) == "datetime64[ns, UTC]"
    assert got.tolist()[:2] == [
        pd.Timestamp("2026-01-06 08:00", tz="UTC"),
        pd.Timestamp("2026-01-06 08:00:00.25", tz="UTC"),
    ]
    assert pd.isna(got.iloc[2])
    assert got.iloc[3] == pd.Timestamp("2026-01-06 08:30:00.5", tz="UTC")
    assert got.iloc[4] == pd.Timestamp("2026-01-06 08:00", tz="UTC")
    # the scalar form reads the same texts to the same instants
    for text, expected in zip(values.dropna(), got.dropna(), strict=True):
        assert R.check_datetime("at", text) == expected.to_pydatetime()
    with pytest.raises(ValidationError, match=r"t\[2\]\.at: "):
        R.datetime_column("t", values)  # required: missing is refused


def test_a_time_before_another_is_refused_in_both_forms():
    start = dt.datetime(2026, 1, 6, 9, tzinfo=UTC)
    R.check_not_before("ended_at", start, start, "started_at")
    R.check_not_before("ended_at", None, start, "started_at")
    err = refused_by_scalar(
        lambda: R.check_not_before("ended_at", start - dt.timedelta(minutes=1), start, "started_at")
    )
    assert err.allowed.startswith("a time at or after started_at")
    starts = pd.Series([start, start], name="started_at")
    ends = pd.Series([start, start - dt.timedelta(minutes=1)], name="ended_at")
    err2 = refused_by_column(lambda: R.not_before_column("s", ends, starts, "started_at"))
    assert err2.field == "s[1].ended_at" and err2.allowed == "a time at or after started_at"


def test_unique_ids_in_a_column():
    err = refused_by_column(
        lambda: R.id_column("s", pd.Series(["a", "b", "a"], name="id"), unique=True)
    )
    assert (err.field, err.value, err.allowed) == ("s[2].id", "a", "each id once")
