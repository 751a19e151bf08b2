"""Reminders (backcare.reminders, `backcare reminders`): the file is parsed back with icalendar
and checked against recurrences, zones and times worked out by hand."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import icalendar
import pytest

from backcare.cli import main
from backcare.domain.programme import Prescription
from backcare.reminders import WEEKDAYS, calendar_for, parse_time, write_reminders
from backcare.store import open_store

NY = "America/New_York"
VALID_FROM = dt.date(2026, 3, 2)  # a Monday
TODAY = dt.date(2026, 3, 5)  # a Thursday; US daylight saving starts on Sunday 8 March 2026
ITEMS = [
    Prescription("plank", hold_s=30, times_per_week=3),
    Prescription("bird-dog", hold_s=5, each_side=True, times_per_week=7),
    Prescription("pelvic-tilt", reps=10, times_per_week=7),
    Prescription("brisk-walking", minutes=15, times_per_week=2),
]


@pytest.fixture
def ny_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(url) as store:
        store.add_patient("ana", "Ana Lima", NY)
        store.set_programme("ana", ITEMS, VALID_FROM, author="physio")  # as the physio editor
    return url


def events(data: bytes) -> dict[str, icalendar.Event]:
    """The file's events by summary."""
    cal = icalendar.Calendar.from_ical(data)
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}


def test_weekday_patterns_have_as_many_days_as_sessions():
    for n, days in WEEKDAYS.items():
        assert len(days) == n == len(set(days))
    assert WEEKDAYS[3] == ("MO", "WE", "FR")


def test_one_recurring_event_per_slot_in_the_patient_time_zone_with_an_alarm(ny_store, tmp_path):
    with open_store(ny_store) as store:
        out = write_reminders(store, "ana", tmp_path / "plan.ics", at=dt.time(18, 30), today=TODAY)
    data = out.read_bytes()
    assert out.stat().st_mode & 0o777 == 0o600  # health data: owner-only
    cal = icalendar.Calendar.from_ical(data)
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == [NY]
    ev = events(data)
    assert sorted(ev) == [
        "Back exercises (2 times a week)",
        "Back exercises (3 times a week)",
        "Back exercises (every day)",
    ]
    daily, three, two = (
        ev["Back exercises (every day)"],
        ev["Back exercises (3 times a week)"],
        ev["Back exercises (2 times a week)"],
    )
    assert daily["rrule"] == {"FREQ": ["DAILY"]}
    assert three["rrule"] == {"FREQ": ["WEEKLY"], "BYDAY": ["MO", "WE", "FR"]}
    assert two["rrule"] == {"FREQ": ["WEEKLY"], "BYDAY": ["MO", "TH"]}
    # first occurrences from Thursday 5 March: today for daily and MO/TH, Friday 6 for MO/WE/FR
    for event, day in ((daily, 5), (three, 6), (two, 5)):
        start = event.decoded("dtstart")
        assert event["dtstart"].params["TZID"] == NY
        assert start.replace(tzinfo=None) == dt.datetime(2026, 3, day, 18, 30)
        # 18:30 EST (UTC-5) is 23:30 UTC
        assert start.astimezone(dt.UTC) == dt.datetime(2026, 3, day, 23, 30, tzinfo=dt.UTC)
        alarms = event.walk("VALARM")
        assert len(alarms) == 1 and str(alarms[0]["action"]) == "DISPLAY"
        assert alarms[0].decoded("trigger") == dt.timedelta(0)  # at the start
    # after the change to daylight time the reminder stays at 18:30 local, 22:30 UTC
    monday = dt.datetime(2026, 3, 9, 18, 30, tzinfo=zoneinfo.ZoneInfo(NY))
    assert monday.astimezone(dt.UTC).hour == 22
    vtz = cal.walk("VTIMEZONE")[0]
    daylight = [c for c in vtz.walk("DAYLIGHT")]
    assert daylight and daylight[0].decoded("tzoffsetto") == dt.timedelta(hours=-4)
    assert daylight[0].decoded("dtstart").date() == dt.date(2026, 3, 8)  # US DST starts
    description = str(daily["description"])
    assert "Bird Dog: Hold 5 s, each side" in description and "Pelvic Tilt: 10 reps" in description
    assert str(three["description"]) == "Plank: Hold 30 s"
    assert str(two["description"]) == "Brisk Walking: 15 min"
    assert b"Ana Lima" not in data  # it goes to calendar services: no name, no id
    assert all("ana" not in str(e["uid"]) for e in ev.values())


def test_the_same_programme_gives_the_same_file_and_a_changed_one_new_uids(ny_store, tmp_path):
    with open_store(ny_store) as store:
        first = write_reminders(store, "ana", tmp_path / "a.ics", today=TODAY).read_bytes()
        again = write_reminders(store, "ana", tmp_path / "b.ics", today=TODAY).read_bytes()
        later = write_reminders(
            store, "ana", tmp_path / "t.ics", at=dt.time(7, 0), today=TODAY
        ).read_bytes()
        changed = [*ITEMS[:3], Prescription("brisk-walking", minutes=20, times_per_week=2)]
        store.set_programme("ana", changed, TODAY, author="physio")
        new = write_reminders(store, "ana", tmp_path / "c.ics", today=TODAY).read_bytes()
    assert first == again
    uids = [{str(e["uid"]) for e in events(d).values()} for d in (first, later, new)]
    assert len(uids[0]) == 3
    assert not uids[0] & uids[1] and not uids[0] & uids[2]
    assert "Brisk Walking: 20 min" in str(
        events(new)["Back exercises (2 times a week)"]["description"]
    )


def test_a_programme_starting_later_starts_the_reminders_then():
    from backcare.domain.catalog import default_catalog
    from backcare.domain.programme import make_programme

    catalog = default_catalog()
    programme = make_programme(ITEMS[:1], dt.date(2026, 4, 1), catalog)  # a Wednesday
    ev = events(calendar_for(programme, catalog, "Europe/London", start=TODAY))
    start = ev["Back exercises (3 times a week)"].decoded("dtstart")
    assert start.replace(tzinfo=None) == dt.datetime(2026, 4, 1, 18, 0)  # 18:00 by default
    assert start.utcoffset() == dt.timedelta(hours=1)  # British Summer Time


@pytest.mark.parametrize("bad", ["25:00", "18:60", "6pm", "18", "", "18:00:00", "-1:00"])
def test_a_bad_time_is_refused(bad):
    with pytest.raises(ValueError, match="--time: .* expected a time of day as HH:MM"):
        parse_time(bad)


def test_parse_time_takes_hours_and_minutes():
    assert parse_time("7:05") == dt.time(7, 5) and parse_time("23:59") == dt.time(23, 59)


def test_the_cli_writes_the_file(ny_store, tmp_path, capsys):
    out = tmp_path / "plan.ics"
    args = ["reminders", "--patient", "ana", "--out", str(out), "--time", "07:15"]
    assert main([*args, "--db", ny_store]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    for event in events(out.read_bytes()).values():
        assert event.decoded("dtstart").time() == dt.time(7, 15)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--patient", "ana", "--time", "25:00"], "--time: '25:00' is not allowed"),
        (["--patient", "nobody"], "'nobody' not found"),
    ],
)
def test_the_cli_refuses_bad_input_in_one_line_and_writes_nothing(
    ny_store, tmp_path, capsys, args, message
):
    out = tmp_path / "plan.ics"
    assert main(["reminders", *args, "--out", str(out), "--db", ny_store]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("backcare: error:") and message in err
    assert not out.exists() and list(tmp_path.glob("*.ics")) == []


def test_the_cli_refuses_a_missing_folder(ny_store, tmp_path, capsys):
    out = tmp_path / "nowhere" / "plan.ics"
    assert main(["reminders", "--patient", "ana", "--out", str(out), "--db", ny_store]) == 2
    assert "does not exist" in capsys.readouterr().err
