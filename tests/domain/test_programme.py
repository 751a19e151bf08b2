"""backcare.domain.programme (pure): what changed between two programmes, and when a new
programme may start."""

from __future__ import annotations

import datetime as dt

import pytest

from backcare.domain.catalog import default_catalog
from backcare.domain.programme import Prescription, Programme, check_start, programme_changes
from backcare.errors import ValidationError
from tests.support.stores import START

TODAY = START + dt.timedelta(days=40)

P30 = Prescription("plank", hold_s=30)
BIRD = Prescription("bird-dog", hold_s=5, each_side=True, times_per_week=3)


def test_programme_changes_lists_removed_changed_and_added():
    old = Programme((P30, BIRD), START)
    new = [Prescription("plank", hold_s=45, sets=2), Prescription("swimming", minutes=15)]
    changes = programme_changes(old, new)
    assert [(c.kind, c.exercise_id, c.field, c.old, c.new) for c in changes] == [
        ("changed", "plank", "sets", 1, 2),
        ("changed", "plank", "hold_s", 30, 45),
        ("removed", "bird-dog", None, BIRD, None),
        ("added", "swimming", None, None, new[1]),
    ]
    cat = default_catalog()
    assert [c.describe(cat) for c in changes] == [
        "Plank: sets 1 to 2",
        "Plank: hold 30 s to 45 s",
        "Removed Bird Dog (was Hold 5 s, each side, 3x/week)",
        "Added Swimming: 15 min, 7x/week",
    ]


def test_programme_changes_ignores_order_and_describes_every_field():
    assert programme_changes([P30, BIRD], [BIRD, P30]) == []
    assert programme_changes(Programme((P30,), START), Programme((P30,), TODAY)) == []
    first = programme_changes(None, [P30])
    assert [(c.kind, c.new) for c in first] == [("added", P30)]
    assert first[0].describe() == "Added plank: Hold 30 s, 7x/week"  # no catalog: the id
    other = Prescription("bird-dog", hold_s=8, each_side=False, times_per_week=5)
    words = [c.describe() for c in programme_changes([BIRD], [other])]
    assert words == [
        "bird-dog: hold 5 s to 8 s",
        "bird-dog: each side yes to no",
        "bird-dog: times a week 3 to 5",
    ]
    walk = programme_changes(
        [Prescription("brisk-walking", minutes=10)], [Prescription("brisk-walking", minutes=12)]
    )
    assert walk[0].describe() == "brisk-walking: minutes 10 min to 12 min"
    assert (
        programme_changes([P30], [Prescription("plank", hold_s=None)])[0].describe()
        == "plank: hold 30 s to none"
    )


def test_check_start_refuses_a_start_before_the_latest_programme():
    assert check_start(TODAY, None) == TODAY
    assert check_start(START, START) == START
    with pytest.raises(ValidationError, match="valid_from: datetime.date\\(2026, 1, 4\\)"):
        check_start(START - dt.timedelta(days=1), START)
