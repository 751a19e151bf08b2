"""Property-based tests: generated bad input thrown at every write function is refused cleanly.

Each case either raises the package's own ValidationError / NotFoundError naming a field,
or (when hypothesis happens to generate valid input) stores it; in no case does a write
half-happen, and no other exception type escapes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backcare.errors import ConflictError, NotFoundError, ValidationError
from backcare.store import open_store

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=3),
    st.dates(),
    st.datetimes(),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
pain_like = st.one_of(anything, st.integers(-3, 14))
item_like = st.one_of(
    anything,
    st.fixed_dictionaries(
        {
            "exercise_id": st.one_of(st.sampled_from(["plank", "cat-cow", "nope", ""]), anything),
            "done": st.one_of(st.booleans(), anything),
        },
        optional={
            "reps": pain_like,
            "hold_s": st.one_of(anything, st.integers(-5, 700)),
            "sets": pain_like,
            "minutes": anything,
        },
    ),
)


def _total(store) -> int:
    with store.engine.connect() as conn:
        return sum(
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()  # noqa: S608
            for t in (
                "sessions",
                "session_items",
                "pain_scores",
                "annotations",
                "programmes",
                "programme_items",
                "daily_summary",
                "patients",
            )
        )


def _store(tmp_path_factory):
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}")
    s.add_patient("p1")
    return s


def _check(store, call, expect_rows_added):
    before = _total(store)
    try:
        call()
    except (ValidationError, NotFoundError, ConflictError) as exc:
        assert str(exc).split(":")[0], "the message names a field"
        assert _total(store) == before, "a refused write changed the store"
    else:
        assert _total(store) >= before + expect_rows_added


@SETTINGS
@given(
    items=st.one_of(anything, st.lists(item_like, max_size=3)),
    pain_before=pain_like,
    pain_after=pain_like,
    day=st.one_of(anything, st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1))),
    notes=st.one_of(anything, st.text(max_size=30)),
    flags=st.one_of(anything, st.lists(st.text(max_size=8), max_size=2)),
    session_id=st.one_of(st.none(), anything),
)
def test_save_session_refuses_generated_bad_input(
    tmp_path_factory, items, pain_before, pain_after, day, notes, flags, session_id
):
    store = _store(tmp_path_factory)
    _check(
        store,
        lambda: store.save_session(
            "p1",
            items,
            day=day,
            pain_before=pain_before,
            pain_after=pain_after,
            notes=notes,
            red_flags=flags,
            session_id=session_id,
        ),
        1,
    )
    store.close()


@SETTINGS
@given(
    score=pain_like,
    context=st.one_of(anything, st.sampled_from(["morning", "evening"])),
    recorded_at=st.one_of(st.none(), anything),
    patient=st.one_of(st.just("p1"), anything),
)
def test_add_pain_refuses_generated_bad_input(
    tmp_path_factory, score, context, recorded_at, patient
):
    store = _store(tmp_path_factory)
    _check(
        store, lambda: store.add_pain(patient, score, context=context, recorded_at=recorded_at), 1
    )
    store.close()


@SETTINGS
@given(
    text=st.one_of(anything, st.text(max_size=20)),
    kind=st.one_of(anything, st.sampled_from(["note", "milestone"])),
    author=anything,
    day=st.one_of(st.none(), anything),
)
def test_add_annotation_refuses_generated_bad_input(tmp_path_factory, text, kind, author, day):
    store = _store(tmp_path_factory)
    _check(store, lambda: store.add_annotation("p1", text, kind=kind, author=author, day=day), 1)
    store.close()


prescription_like = st.one_of(
    anything,
    st.fixed_dictionaries(
        {"exercise_id": st.one_of(st.sampled_from(["plank", "pelvic-tilt", "nope"]), anything)},
        optional={
            "hold_s": pain_like,
            "reps": pain_like,
            "times_per_week": pain_like,
            "sets": pain_like,
            "each_side": anything,
        },
    ),
)


@SETTINGS
@given(
    items=st.one_of(anything, st.lists(prescription_like, max_size=3)),
    valid_from=st.one_of(anything, st.dates(dt.date(2020, 1, 1), dt.date(2040, 1, 1))),
)
def test_set_programme_refuses_generated_bad_input(tmp_path_factory, items, valid_from):
    store = _store(tmp_path_factory)
    _check(store, lambda: store.set_programme("p1", items, valid_from), 1)
    store.close()


@SETTINGS
@given(
    patient_id=anything,
    name=anything,
    timezone=st.one_of(anything, st.sampled_from(["UTC", "Europe/Paris"])),
)
def test_add_patient_refuses_generated_bad_input(tmp_path_factory, patient_id, name, timezone):
    store = _store(tmp_path_factory)
    _check(store, lambda: store.add_patient(patient_id, name, timezone), 0)
    store.close()
