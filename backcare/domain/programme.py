"""Prescriptions: which exercises a patient does, at what dose, how often, from when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from backcare.domain.catalog import DOSE_FIELDS, DOSE_LIMITS, Catalog, Exercise, dosage_words
from backcare.domain.rules import (
    ANNOTATION_CHARS,
    NAME_CHARS,
    check_bool,
    check_date,
    check_id,
    check_int,
    check_text,
)
from backcare.errors import ValidationError

SETS_LIMITS = (1, 10)
TIMES_PER_WEEK_LIMITS = (1, 14)
PLANNING_DAYS = 366  # how far ahead a programme may be scheduled
AUTOMATIC_AUTHOR = "backcare"  # the author of what backcare writes on its own


@dataclass(frozen=True)
class Prescription:
    """One exercise of a programme with its dose and weekly frequency."""

    exercise_id: str
    sets: int = 1
    reps: int | None = None
    hold_s: int | None = None
    minutes: int | None = None
    each_side: bool = False
    times_per_week: int = 7

    def dosage_text(self) -> str:
        """The prescribed dose in words, e.g. 'Hold 30 s, each side'."""
        return dosage_words(
            sets=self.sets,
            reps=self.reps,
            hold_s=self.hold_s,
            minutes=self.minutes,
            each_side=self.each_side,
        )

    def dose(self) -> dict[str, int | None]:
        """sets/reps/hold_s/minutes as a dict."""
        return {"sets": self.sets, **{n: getattr(self, n) for n in DOSE_FIELDS}}


@dataclass(frozen=True)
class Programme:
    """What one patient is prescribed from valid_from until a later programme supersedes it."""

    items: tuple[Prescription, ...]
    valid_from: dt.date
    author: str = ""
    note: str = ""
    programme_id: int | None = field(default=None, compare=False)

    def exercise_ids(self) -> list[str]:
        """The prescribed exercise ids, in programme order."""
        return [p.exercise_id for p in self.items]

    def get(self, exercise_id: str) -> Prescription | None:
        """The prescription for exercise_id, or None."""
        return next((p for p in self.items if p.exercise_id == exercise_id), None)


def default_programme(catalog: Catalog, valid_from: dt.date) -> Programme:
    """The article's programme: every catalog exercise from the seed article, daily, low dose."""
    items = [starting_prescription(ex) for ex in catalog if ex.source.startswith("seed article")]
    return Programme(tuple(items), valid_from, author=AUTOMATIC_AUTHOR, note="default programme")


def starting_prescription(exercise: Exercise, times_per_week: int = 7) -> Prescription:
    """The exercise at the low end of each of its catalog dose ranges, one set, times_per_week."""
    dose = {n: getattr(exercise, n)[0] for n in DOSE_FIELDS if getattr(exercise, n) is not None}
    return Prescription(
        exercise.id, each_side=exercise.each_side, times_per_week=times_per_week, **dose
    )


def check_start(
    valid_from: dt.date, latest_start: dt.date | None, field_name: str = "valid_from"
) -> dt.date:
    """valid_from if a new programme may start then: not before the latest stored programme's start.

    A programme starting before the latest one would be superseded by it on that day, so
    the change would silently not apply from then on; to replace the latest programme,
    start on its day or later."""
    if latest_start is not None and valid_from < latest_start:
        raise ValidationError(
            field_name,
            valid_from,
            f"a date on or after {latest_start.isoformat()}, the start of the latest programme "
            "(one starting earlier would be replaced by it from that day)",
        )
    return valid_from


def prescription_from(value: Prescription | Mapping[str, Any], field_name: str) -> Prescription:
    """Coerce a dict (e.g. from a widget or CSV) into a Prescription, refusing unknown keys."""
    if isinstance(value, Prescription):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError(field_name, value, "a Prescription or a mapping of its fields")
    allowed = set(Prescription.__dataclass_fields__)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ValidationError(
            f"{field_name}.{unknown[0]}", value[unknown[0]], "one of " + ", ".join(sorted(allowed))
        )
    if "exercise_id" not in value:
        raise ValidationError(f"{field_name}.exercise_id", None, "a catalog exercise id")
    return Prescription(**value)


def validate_programme(
    items: Iterable[Prescription | Mapping[str, Any]], catalog: Catalog
) -> tuple[Prescription, ...]:
    """Check every prescription against the catalog and sane bounds; return them as a tuple."""
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise ValidationError("items", items, "a list of prescriptions")
    out: list[Prescription] = []
    seen: set[str] = set()
    for i, raw in enumerate(items):
        name = f"items[{i}]"
        p = prescription_from(raw, name)
        check_id(f"{name}.exercise_id", p.exercise_id)
        if p.exercise_id not in catalog:
            raise ValidationError(
                f"{name}.exercise_id", p.exercise_id, "an exercise id from the catalog"
            )
        if p.exercise_id in seen:
            raise ValidationError(
                f"{name}.exercise_id", p.exercise_id, "each exercise at most once per programme"
            )
        seen.add(p.exercise_id)
        ex = catalog[p.exercise_id]
        check_int(f"{name}.sets", p.sets, *SETS_LIMITS)
        check_int(f"{name}.times_per_week", p.times_per_week, *TIMES_PER_WEEK_LIMITS)
        check_bool(f"{name}.each_side", p.each_side)
        for dose in DOSE_FIELDS:
            value = getattr(p, dose)
            if getattr(ex, dose) is None:
                if value is not None:
                    raise ValidationError(
                        f"{name}.{dose}", value, f"None: {ex.name} is not dosed in {dose}"
                    )
            else:
                check_int(f"{name}.{dose}", value, *DOSE_LIMITS[dose])
        out.append(p)
    if not out:
        raise ValidationError("items", [], "at least one prescribed exercise")
    return tuple(out)


def make_programme(
    items: Iterable[Prescription | Mapping[str, Any]],
    valid_from: dt.date,
    catalog: Catalog,
    *,
    author: str = "",
    note: str = "",
) -> Programme:
    """A validated Programme."""
    return Programme(
        validate_programme(items, catalog),
        check_date(
            "valid_from", valid_from, today=dt.date.today() + dt.timedelta(days=PLANNING_DAYS)
        ),
        author=check_text("author", author, max_len=NAME_CHARS),
        note=check_text("note", note),
    )


def programme_to_dicts(programme: Programme) -> list[dict[str, Any]]:
    """The programme's prescriptions as plain dicts."""
    return [asdict(p) for p in programme.items]


# ---- what changed between two programmes ----------------------------------------------
CHANGE_FIELDS = ("sets", *DOSE_FIELDS, "each_side", "times_per_week")
_FIELD_WORDS = {
    "sets": "sets",
    "hold_s": "hold",
    "reps": "reps",
    "minutes": "minutes",
    "each_side": "each side",
    "times_per_week": "times a week",
}
_UNITS = {"hold_s": " s", "minutes": " min"}


@dataclass(frozen=True)
class ProgrammeChange:
    """One difference between two programmes: an exercise added or removed, or one field changed.

    kind is "added" (old None, new the Prescription), "removed" (old the Prescription, new
    None) or "changed" (field names the changed field; old and new are its values)."""

    kind: str
    exercise_id: str
    field: str | None = None
    old: Any = None
    new: Any = None

    def describe(self, catalog: Catalog | None = None) -> str:
        """The change in plain words, e.g. 'Plank: hold 30 s to 45 s' (not HTML-escaped)."""
        name = (
            catalog[self.exercise_id].name
            if catalog is not None and self.exercise_id in catalog
            else self.exercise_id
        )
        if self.kind == "added":
            return f"Added {name}: {_in_words(self.new)}"
        if self.kind == "removed":
            return f"Removed {name} (was {_in_words(self.old)})"
        word = _FIELD_WORDS.get(self.field or "", self.field or "")
        old, new = _value_words(self.field, self.old), _value_words(self.field, self.new)
        return f"{name}: {word} {old} to {new}"


def programme_change_note(programme: Programme, catalog: Catalog) -> str:
    """The timeline note recorded with a new programme.

    E.g. 'Programme from 2026-01-05: Plank (Hold 30 s, 7x/week)'."""
    names = ", ".join(f"{catalog[p.exercise_id].name} ({_in_words(p)})" for p in programme.items)
    text = f"Programme from {programme.valid_from}: {names}" + (
        f". {programme.note}" if programme.note else ""
    )
    return text[:ANNOTATION_CHARS]


def _in_words(p: Prescription) -> str:
    return f"{p.dosage_text()}, {p.times_per_week}x/week"


def _value_words(field_name: str | None, value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value}{_UNITS.get(field_name or '', '')}"


def _items_of(programme: Programme | Iterable[Prescription] | None) -> tuple[Prescription, ...]:
    if programme is None:
        return ()
    if isinstance(programme, Programme):
        return programme.items
    return tuple(programme)


def programme_changes(
    old: Programme | Iterable[Prescription] | None,
    new: Programme | Iterable[Prescription],
) -> list[ProgrammeChange]:
    """What changed from old to new (None: no previous programme): removals, changes, additions.

    Exercises are matched by id; their order in the programme is not a change. Removed and
    changed exercises are listed in old's order, added ones in new's order."""
    before = {p.exercise_id: p for p in _items_of(old)}
    after = {p.exercise_id: p for p in _items_of(new)}
    changes: list[ProgrammeChange] = []
    for ex_id, p in before.items():
        if ex_id not in after:
            changes.append(ProgrammeChange("removed", ex_id, old=p))
            continue
        q = after[ex_id]
        for name in CHANGE_FIELDS:
            if getattr(p, name) != getattr(q, name):
                changes.append(
                    ProgrammeChange("changed", ex_id, name, getattr(p, name), getattr(q, name))
                )
    changes.extend(
        ProgrammeChange("added", ex_id, new=q) for ex_id, q in after.items() if ex_id not in before
    )
    return changes
