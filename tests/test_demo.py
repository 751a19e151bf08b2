"""Demo data: realistic, deterministic, and loaded through the validated bulk path."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backcare.demo import demo_digest, fill_demo
from backcare.domain.catalog import load_catalog
from backcare.domain.programme import default_programme
from backcare.errors import ValidationError
from backcare.store import open_store
from tests.support import ROOT

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


# ---- reproducibility: the same arguments give the same rows on every machine -------------------
TINY = ["--patients", "3", "--days", "50", "--seed", "7", "--end", "2026-03-31"]
SEED_ARTICLE_ADDITION = """
[[exercise]]
id = "wall-sit"
name = "Wall Sit"
group = "strengthening"
position = "Back against a wall, feet forward."
steps = ["Slide down until your knees are bent, hold, slide up."]
cautions = ["Stop if it causes sharp pain."]
hold_s = [10, 30]
source = "seed article (a user's addition that claims the article as its source)"
"""


def _demo_in_a_process(db: Path, env: dict[str, str]) -> str:
    """`backcare demo` TINY into db in a new process with env added; the digest of its rows."""
    subprocess.run(
        [sys.executable, "-m", "backcare.cli", "demo", *TINY, "--db", f"sqlite:///{db}"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    with open_store(f"sqlite:///{db}") as s:
        return demo_digest(s)


def test_the_same_seed_gives_the_same_rows_in_any_time_zone_hash_seed_and_catalog(tmp_path):
    """What made two machines' demos differ cannot: the machine's time zone, Python's hash seed,
    a user's catalog additions (the programme comes from the shipped catalog) and the time the
    rows were loaded (left out of the digest; annotations are dated by their day)."""
    catalog = tmp_path / "extra.toml"
    catalog.write_text(SEED_ARTICLE_ADDITION, encoding="utf-8")
    here = _demo_in_a_process(
        tmp_path / "auckland.db",
        {"TZ": "Pacific/Auckland", "PYTHONHASHSEED": "1", "BACKCARE_CATALOG": str(catalog)},
    )
    there = _demo_in_a_process(
        tmp_path / "utc.db", {"TZ": "UTC", "PYTHONHASHSEED": "2", "BACKCARE_CATALOG": ""}
    )
    assert re.fullmatch(r"[0-9a-f]{64}", here)
    assert here == there
    with open_store(f"sqlite:///{tmp_path / 'other-seed.db'}") as s:
        fill_demo(s, 3, 50, 8, end=dt.date(2026, 3, 31), progress=False)
        assert demo_digest(s) != here  # the digest does tell different rows apart


def test_a_tiny_demo_has_the_counts_its_model_implies(tmp_path):
    """2 patients x 10 days: each keeps the starting programme (a change needs 42 days), every
    session lists every prescribed exercise, a standalone pain score only falls on a day without
    a session, and annotations are flare-up starts only."""
    with open_store(f"sqlite:///{tmp_path / 'tiny.db'}") as s:
        counts = fill_demo(s, 2, 10, 1, end=dt.date(2026, 3, 31), progress=False)
        n_ex = len(default_programme(load_catalog(), dt.date(2026, 3, 22)).items)
        sessions, items, pain, ann = s.sessions(), s.items(), s.pain(), s.annotations()
    assert counts["patients"] == 2 and counts["programmes"] == 2  # one each
    assert counts["sessions"] == len(sessions) <= 2 * 10
    assert counts["items"] == len(items) == n_ex * len(sessions)  # patients 1 and 2 keep swimming
    standalone = pain[pain["context"] == "morning"]
    assert counts["pain"] == len(standalone)
    session_days = set(zip(sessions["patient_id"], sessions["day"], strict=True))
    assert not session_days & set(zip(standalone["patient_id"], standalone["day"], strict=True))
    assert set(ann["kind"]) <= {"flare-up"}
