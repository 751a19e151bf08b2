"""Prescriptions: which exercises a patient does, at what dose, how often, from when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ._validate import check_bool, check_id, check_int, check_text
from .catalog import DOSE_FIELDS, DOSE_LIMITS, Catalog, dosage_words
from .errors import ValidationError

SETS_LIMITS = (1, 10)
TIMES_PER_WEEK_LIMITS = (1, 14)


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
    """The article's programme: every catalog exercise from the seed article, daily, at the low dose."""
    items = []
    for ex in catalog:
        if not ex.source.startswith("seed article"):
            continue
        dose = {n: getattr(ex, n)[0] for n in DOSE_FIELDS if getattr(ex, n) is not None}
        items.append(Prescription(ex.id, each_side=ex.each_side, times_per_week=7, **dose))
    return Programme(tuple(items), valid_from, author="backcare", note="default programme")


def prescription_from(value: Prescription | Mapping[str, Any], field_name: str) -> Prescription:
    """Coerce a dict (e.g. from a widget or CSV) into a Prescription, refusing unknown keys."""
    if isinstance(value, Prescription):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError(field_name, value, "a Prescription or a mapping of its fields")
    allowed = set(Prescription.__dataclass_fields__)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ValidationError(f"{field_name}.{unknown[0]}", value[unknown[0]], "one of " + ", ".join(sorted(allowed)))
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
            raise ValidationError(f"{name}.exercise_id", p.exercise_id, "an exercise id from the catalog")
        if p.exercise_id in seen:
            raise ValidationError(f"{name}.exercise_id", p.exercise_id, "each exercise at most once per programme")
        seen.add(p.exercise_id)
        ex = catalog[p.exercise_id]
        check_int(f"{name}.sets", p.sets, *SETS_LIMITS)
        check_int(f"{name}.times_per_week", p.times_per_week, *TIMES_PER_WEEK_LIMITS)
        check_bool(f"{name}.each_side", p.each_side)
        for dose in DOSE_FIELDS:
            value = getattr(p, dose)
            if getattr(ex, dose) is None:
                if value is not None:
                    raise ValidationError(f"{name}.{dose}", value, f"None: {ex.name} is not dosed in {dose}")
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
    from ._validate import check_date

    return Programme(
        validate_programme(items, catalog),
        check_date("valid_from", valid_from, today=dt.date.today() + dt.timedelta(days=366)),
        author=check_text("author", author, max_len=200),
        note=check_text("note", note),
    )


def programme_to_dicts(programme: Programme) -> list[dict[str, Any]]:
    """The programme's prescriptions as plain dicts."""
    return [asdict(p) for p in programme.items]
