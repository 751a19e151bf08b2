"""Sessions, pain scores and annotations as plain data, and the rules a session must keep.

A Session is what a person records for one day: the exercises of their programme done or
not (with the dose actually done), pain before and after (0-10), notes and any red flags
ticked. validate_session checks every field and returns a Session ready to store; the
column forms of the same rules (backcare.domain.rules) check whole frames in bulk.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backcare.domain.catalog import DOSE_FIELDS, DOSE_LIMITS, Catalog
from backcare.domain.programme import SETS_LIMITS
from backcare.domain.rules import (
    check_bool,
    check_codes,
    check_date,
    check_datetime,
    check_id,
    check_int,
    check_not_before,
    check_text,
)
from backcare.domain.wording import RED_FLAGS
from backcare.errors import ValidationError

ANNOTATION_KINDS = ("note", "programme-change", "flare-up", "milestone")
PAIN_CONTEXTS = ("", "morning", "midday", "evening", "night", "after activity", "other")
PAIN_RANGE = (0, 10)  # the 0-10 numeric rating scale
RED_FLAG_CODES = tuple(RED_FLAGS)
CATALOG_EXERCISE = "an exercise id from the catalog"
ONCE_PER_SESSION = "each exercise at most once per session"


def new_id() -> str:
    """A fresh client-side id (uuid4 hex)."""
    return uuid.uuid4().hex


def done_dose_limits(dose: str) -> tuple[int, int]:
    """The range of a dose actually done: from 0 up to the catalog's highest for that dose."""
    return 0, DOSE_LIMITS[dose][1]


@dataclass(frozen=True)
class SessionItem:
    """One exercise of a session: done or not, and the dose actually done."""

    exercise_id: str
    done: bool
    sets: int | None = None
    reps: int | None = None
    hold_s: int | None = None
    minutes: int | None = None


@dataclass(frozen=True)
class Session:
    """A validated exercise session, ready to store."""

    session_id: str
    patient_id: str
    day: dt.date
    items: tuple[SessionItem, ...]
    pain_before: int | None = None
    pain_after: int | None = None
    notes: str = ""
    red_flags: tuple[str, ...] = ()
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    programme_id: int | None = field(default=None, compare=False)


_ITEM_FIELDS = frozenset(SessionItem.__dataclass_fields__)
_DONE_DOSE_LIMITS = {dose: done_dose_limits(dose) for dose in DOSE_FIELDS}


def _session_item(raw: SessionItem | Mapping[str, Any], name: str, catalog: Catalog) -> SessionItem:
    if isinstance(raw, Mapping):
        allowed = _ITEM_FIELDS
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise ValidationError(
                f"{name}.{unknown[0]}", raw[unknown[0]], "one of " + ", ".join(sorted(allowed))
            )
        if "exercise_id" not in raw or "done" not in raw:
            missing = "exercise_id" if "exercise_id" not in raw else "done"
            raise ValidationError(f"{name}.{missing}", None, "a value (it is required)")
        raw = SessionItem(**raw)
    elif not isinstance(raw, SessionItem):
        raise ValidationError(name, raw, "a SessionItem or a mapping of its fields")
    check_id(f"{name}.exercise_id", raw.exercise_id)
    if raw.exercise_id not in catalog:
        raise ValidationError(f"{name}.exercise_id", raw.exercise_id, CATALOG_EXERCISE)
    check_bool(f"{name}.done", raw.done)
    check_int(f"{name}.sets", raw.sets, *SETS_LIMITS, optional=True)
    for dose, (lo, hi) in _DONE_DOSE_LIMITS.items():
        check_int(f"{name}.{dose}", getattr(raw, dose), lo, hi, optional=True)
    return raw


def validate_session(
    *,
    catalog: Catalog,
    session_id: str,
    patient_id: str,
    day: dt.date,
    items: Iterable[SessionItem | Mapping[str, Any]],
    pain_before: int | None,
    pain_after: int | None,
    notes: str,
    red_flags: Iterable[str],
    started_at: dt.datetime | None,
    ended_at: dt.datetime | None,
) -> Session:
    """Check every field of a session; return the Session or raise ValidationError."""
    check_id("session_id", session_id)
    check_id("patient_id", patient_id)
    day = check_date("day", day)
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise ValidationError("items", items, "a list of session items")
    checked = tuple(
        sorted(
            (_session_item(it, f"items[{i}]", catalog) for i, it in enumerate(items)),
            key=lambda it: it.exercise_id,
        )
    )
    ids = [it.exercise_id for it in checked]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValidationError("items.exercise_id", dup, ONCE_PER_SESSION)
    pb = check_int("pain_before", pain_before, *PAIN_RANGE, optional=True)
    pa = check_int("pain_after", pain_after, *PAIN_RANGE, optional=True)
    notes = check_text("notes", notes)
    flags = check_codes("red_flags", red_flags, RED_FLAG_CODES)
    started_at = check_datetime("started_at", started_at, optional=True)
    ended_at = check_datetime("ended_at", ended_at, optional=True)
    check_not_before("ended_at", ended_at, started_at, "started_at")
    if not checked and pb is None and pa is None:
        raise ValidationError("items", [], "at least one exercise item or a pain score")
    return Session(session_id, patient_id, day, checked, pb, pa, notes, flags, started_at, ended_at)
