"""A patient who used the app: data written through the user paths with real timestamps.

The physio editor's set_programme, the today view's Save (Store.save_session with the
widget's aware timestamps, microseconds included) and quick pain (Store.add_pain), and an
annotation, in a time zone east of UTC so local days and UTC days differ around midnight."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from backcare.domain.programme import Prescription
from backcare.domain.session import SessionItem
from backcare.store import Store

TZ = zoneinfo.ZoneInfo("Europe/Madrid")  # UTC+1 in winter, UTC+2 in summer
PROGRAMME_START = dt.date(2026, 3, 2)  # a Monday
PROGRAMME = (
    Prescription("pelvic-tilt", sets=2, reps=12, times_per_week=5),
    Prescription("plank", sets=3, hold_s=45, times_per_week=3),
    Prescription("brisk-walking", minutes=15, times_per_week=7),
)
# 23:41 local on 2026-03-14 is 22:41 UTC the same day; 00:20 local on 2026-03-29 (the day
# Madrid moves to summer time, at 02:00) is 23:20 UTC on 2026-03-28: a session that counts for
# a local day other than its UTC day.
SESSION_1 = dt.datetime(2026, 3, 14, 23, 41, 7, 123456, tzinfo=TZ)
SESSION_2 = dt.datetime(2026, 3, 29, 0, 20, 5, 900001, tzinfo=TZ)
PAIN_AT = dt.datetime(2026, 3, 16, 8, 5, 30, 250000, tzinfo=TZ)


@dataclass(frozen=True)
class Usage:
    """What use_the_app wrote, to compare exports against."""

    patient_id: str
    programme_id: int
    session_ids: tuple[str, str]
    pain_id: str
    annotation_id: str


def use_the_app(store: Store, patient_id: str = "maria", name: str = "Maria Lopez") -> Usage:
    """Write a patient's programme, two sessions, a quick pain score and a note; return the ids."""
    store.add_patient(patient_id, name, "Europe/Madrid")
    programme_id = store.set_programme(
        patient_id, PROGRAMME, PROGRAMME_START, author="Ana (physio)", note="start gently"
    )
    s1 = store.save_session(
        patient_id,
        [
            SessionItem("pelvic-tilt", True, sets=2, reps=12),
            SessionItem("plank", True, sets=3, hold_s=40),
            SessionItem("brisk-walking", False),
        ],
        pain_before=6,
        pain_after=4,
        notes="stiff after driving",
        started_at=SESSION_1,
        ended_at=SESSION_1 + dt.timedelta(minutes=18, microseconds=4),
    )
    s2 = store.save_session(
        patient_id,
        [
            SessionItem("pelvic-tilt", True, sets=2, reps=12),
            SessionItem("plank", False),
            SessionItem("brisk-walking", True, minutes=15),
        ],
        pain_before=3,
        pain_after=2,
        started_at=SESSION_2,
        ended_at=SESSION_2 + dt.timedelta(minutes=25),
    )
    pain_id = store.add_pain(patient_id, 5, recorded_at=PAIN_AT, context="morning")
    annotation_id = store.add_annotation(
        patient_id, "flare-up after moving house", day=dt.date(2026, 3, 20), author="Ana"
    )
    return Usage(patient_id, programme_id, (s1, s2), pain_id, annotation_id)
