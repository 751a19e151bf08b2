"""User text that would run as code if a page showed it unescaped, and the report tests'
patient who carries it (used by tests/reports/test_report.py and the browser test)."""

from __future__ import annotations

import datetime as dt

from backcare.store import open_store

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"

# The report tests' store: demo patients (seed 5) up to END; the first one made hostile.
END = dt.date(2026, 3, 31)
SEED = 5
PATIENT = "demo-0001"
NAME = f"Zed Hostile {IMG}"
AUTHOR = f"Dr Bold {SCRIPT}"
NOTE = f"NOTE-MARKER stiff after gardening {IMG} {SCRIPT}"
ANNOTATION = f"ANNOTATION-MARKER progressed plank {SCRIPT}"
NARRATIVE = f"NARRATIVE-MARKER Good progress.\n\nKeep walking {IMG}"


def add_hostile_text(url: str) -> str:
    """Give PATIENT of the demo store at url a name, notes and annotations that would run as
    code if not escaped; return url."""
    with open_store(url) as s:
        tz = s.patients().set_index("patient_id").loc[PATIENT, "timezone"]
        s.add_patient(PATIENT, NAME, tz)
        s.add_annotation(
            PATIENT, ANNOTATION, day=END - dt.timedelta(days=20), author=AUTHOR, kind="milestone"
        )
        s.add_annotation(PATIENT, IMG, day=END - dt.timedelta(days=10), author=IMG, kind="note")
        s.save_session(
            PATIENT,
            [{"exercise_id": "plank", "done": True}],
            day=END - dt.timedelta(days=3),
            pain_before=5,
            pain_after=4,
            notes=NOTE,
            red_flags=["night-pain"],
            session_id="xss-notes",
        )
    return url
