"""Demo data: realistic, deterministic, and loaded through the validated bulk path."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from backcare.demo import fill_demo
from backcare.errors import ValidationError
from backcare.store import open_store

END = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def demo(demo_store):
    return demo_store(patients=12, days=200, seed=3, end=END)


def _frames(store):
    return store.sessions(), store.items(), store.pain(), store.annotations(), store.prescriptions()


def test_same_seed_gives_the_same_rows(demo, tmp_path):
    other = open_store(f"sqlite:///{tmp_path / 'again.db'}")
    fill_demo(other, patients=12, days=200, seed=3, end=END, progress=False)
    drop = ["created_at", "updated_at", "annotation_id", "programme_id"]
    for a, b in zip(_frames(demo), _frames(other), strict=True):
        pd.testing.assert_frame_equal(
            a.drop(columns=[c for c in drop if c in a]), b.drop(columns=[c for c in drop if c in b])
        )
    other.close()


def test_running_demo_twice_adds_nothing(demo):
    before = len(demo.sessions())
    assert fill_demo(demo, patients=12, days=200, seed=3, end=END, progress=False)["sessions"] == 0
    assert len(demo.sessions()) == before


def test_history_spans_the_requested_days(demo):
    s = demo.sessions()
    assert s["day"].max() <= pd.Timestamp(END)
    assert s["day"].min() >= pd.Timestamp(END - dt.timedelta(days=199))
    assert s["patient_id"].nunique() == 12


def test_adherence_differs_between_patients_and_drifts(demo):
    s = demo.sessions()
    per_patient = s.groupby("patient_id").size() / 200
    assert per_patient.max() - per_patient.min() > 0.2
    # drift: for most patients the first and last 50 days differ by more than 5 sessions
    first = s[s["day"] < pd.Timestamp(END - dt.timedelta(days=149))].groupby("patient_id").size()
    last = s[s["day"] > pd.Timestamp(END - dt.timedelta(days=50))].groupby("patient_id").size()
    assert ((first - last).abs() > 5).mean() > 0.5


def test_pain_tends_to_fall_with_adherence(demo):
    s = demo.sessions()
    per = s.groupby("patient_id").agg(
        n=("session_id", "size"),
        late=("pain_before", lambda x: x.tail(30).mean()),
        early=("pain_before", lambda x: x.head(30).mean()),
    )
    drop = per["early"] - per["late"]
    assert np.corrcoef(per["n"], drop)[0, 1] > 0.3


def test_flare_ups_red_flags_programme_changes_and_after_pain(demo):
    s, _, pain, ann, pres = _frames(demo)
    assert (ann["kind"] == "flare-up").any()
    assert (s["red_flags"] != "").sum() >= 1
    assert (pres.groupby("patient_id")["programme_id"].nunique() > 1).any()
    assert (s["pain_after"] != s["pain_before"]).mean() > 0.3
    assert len(pain) > 0


def test_demo_refuses_silly_sizes(store):
    with pytest.raises(ValidationError, match="patients"):
        fill_demo(store, patients=0)


def test_demo_rows_are_the_same_on_every_backend(store, tmp_path):
    """The bulk path stores the same values through SQLite and PostgreSQL."""
    fill_demo(store, patients=2, days=40, seed=5, end=END, progress=False)
    with open_store(f"sqlite:///{tmp_path / 'ref.db'}") as ref:
        fill_demo(ref, patients=2, days=40, seed=5, end=END, progress=False)
        drop = ["created_at", "updated_at", "annotation_id", "programme_id"]
        for a, b in zip(_frames(store), _frames(ref), strict=True):
            pd.testing.assert_frame_equal(
                a.drop(columns=[c for c in drop if c in a]),
                b.drop(columns=[c for c in drop if c in b]),
            )
