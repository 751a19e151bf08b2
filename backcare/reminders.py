"""Reminders: a programme as an iCalendar file (RFC 5545) for a phone's or computer's calendar.

One recurring event per prescribed slot: the exercises prescribed the same number of times a
week share one event, on the weekdays of WEEKDAYS (3x/week -> Monday, Wednesday, Friday;
7x/week -> every day), at the time the person chose, in the patient's time zone (a VTIMEZONE
and TZID, so the reminder stays at 18:00 local time across daylight-saving changes), with an
alarm at the start. Each event's UID is derived from the programme's content and the time, so
a changed programme (or another time) gives a new file whose events replace none of the old
ones by accident, and the same programme always gives the same UIDs (re-importing updates).

The file names exercises and doses but neither the patient's name nor id (it ends up in
calendar services); it is still health data and is written owner-only.

calendar_for() is pure; write_reminders() reads the programme in force from a store."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
import zoneinfo
from pathlib import Path
from typing import TYPE_CHECKING

from backcare.errors import BackcareError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from backcare.domain.catalog import Catalog
    from backcare.domain.programme import Programme
    from backcare.store import Store

__all__ = [
    "DEFAULT_TIME",
    "WEEKDAYS",
    "calendar_for",
    "parse_time",
    "write_reminders",
]

DEFAULT_TIME = dt.time(18, 0)
EVENT_MINUTES = 20  # the length a calendar shows for a session; the reminder is what matters
# Weekdays (RFC 5545 BYDAY codes) for n sessions a week, spread so that rest days fall between
# sessions as evenly as a 7-day week allows.
WEEKDAYS: dict[int, tuple[str, ...]] = {
    1: ("MO",),
    2: ("MO", "TH"),
    3: ("MO", "WE", "FR"),
    4: ("MO", "TU", "TH", "SA"),
    5: ("MO", "TU", "WE", "TH", "FR"),
    6: ("MO", "TU", "WE", "TH", "FR", "SA"),
    7: ("MO", "TU", "WE", "TH", "FR", "SA", "SU"),
}
_WEEKDAY_INDEX = {code: i for i, code in enumerate(WEEKDAYS[7])}
PRODID = "-//backcare//reminders//EN"
TZ_YEARS = 10  # the VTIMEZONE spells out daylight-saving changes this many years ahead


def parse_time(text: str) -> dt.time:
    """'18:00' (or '7:30') as a time of day; ValidationError naming --time otherwise."""
    match = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", str(text).strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValidationError("--time", text, "a time of day as HH:MM from 00:00 to 23:59")
    return dt.time(int(match[1]), int(match[2]))


def _programme_key(programme: Programme, at: dt.time, timezone: str) -> str:
    """A digest of everything the file says: a changed programme or time gives new UIDs."""
    from backcare.domain.programme import programme_to_dicts

    content = {
        "valid_from": programme.valid_from.isoformat(),
        "items": programme_to_dicts(programme),
        "time": at.strftime("%H:%M"),
        "timezone": timezone,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]


def _first_day(start: dt.date, days: tuple[str, ...]) -> dt.date:
    """The first day on or after start that falls on one of days (BYDAY codes)."""
    wanted = {_WEEKDAY_INDEX[d] for d in days}
    day = start
    while day.weekday() not in wanted:
        day += dt.timedelta(days=1)
    return day


def calendar_for(
    programme: Programme,
    catalog: Catalog,
    timezone: str,
    *,
    at: dt.time = DEFAULT_TIME,
    start: dt.date | None = None,
) -> bytes:
    """The iCalendar file of programme's reminders at `at` local time in timezone (an IANA
    name), recurring from start (default: the programme's first day; never before it)."""
    import icalendar

    tz = zoneinfo.ZoneInfo(timezone)
    begin = max(start or programme.valid_from, programme.valid_from)
    key = _programme_key(programme, at, timezone)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Back exercises")
    slots: dict[int, list[str]] = {}
    for p in programme.items:
        name = catalog[p.exercise_id].name if p.exercise_id in catalog else p.exercise_id
        slots.setdefault(p.times_per_week, []).append(f"{name}: {p.dosage_text()}")
    for times, lines in sorted(slots.items(), reverse=True):
        days = WEEKDAYS[times]
        first = _first_day(begin, days)
        when = dt.datetime.combine(first, at, tzinfo=tz)
        event = icalendar.Event()
        event.add("uid", f"{key}-{times}x@backcare")
        event.add("dtstamp", dt.datetime.combine(programme.valid_from, dt.time(), tzinfo=dt.UTC))
        event.add("dtstart", when)
        event.add("duration", dt.timedelta(minutes=EVENT_MINUTES))
        often = "every day" if times == 7 else f"{times} times a week"
        event.add("summary", f"Back exercises ({often})")
        event.add("description", "\n".join(lines))
        if times == 7:
            event.add("rrule", {"freq": "daily"})
        else:
            event.add("rrule", {"freq": "weekly", "byday": list(days)})
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Time for your back exercises ({often})")
        alarm.add("trigger", dt.timedelta(0))
        event.add_component(alarm)
        cal.add_component(event)
    cal.add_missing_timezones(
        first_date=begin - dt.timedelta(days=1), last_date=begin + dt.timedelta(days=TZ_YEARS * 366)
    )
    return bytes(cal.to_ical())


def write_reminders(
    store: Store,
    patient_id: str,
    out: Path,
    *,
    at: dt.time = DEFAULT_TIME,
    today: dt.date | None = None,
) -> Path:
    """Write patient_id's reminders for the programme in force today (in their time zone) to
    out, owner-only, whole or not at all; return out. Starts today, or when the programme
    starts if that is later."""
    tz = store.patient_timezone(patient_id)  # NotFoundError for an unknown patient
    day = today or dt.datetime.now(tz).date()
    programme = store.programme_on(patient_id, day) or store.programme_on(
        patient_id, day + dt.timedelta(days=3660)
    )
    if programme is None:
        raise NotFoundError("programme", patient_id, f"a programme in force from {day}")
    data = calendar_for(programme, store.catalog, str(tz), at=at, start=day)
    out = Path(out)
    if not out.parent.is_dir():
        raise BackcareError(f"--out: {str(out)!r}: the folder {str(out.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".backcare-", suffix=".ics")
    try:
        with os.fdopen(fd, "wb") as f:  # mkstemp: owner-only
            f.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
