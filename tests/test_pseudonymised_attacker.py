"""Pseudonymised bundles and reports played against an attacker who holds the real data.

The patient used the app (tests/support/real_use.py: microseconds, DST days, midnight, the
physio's programme changes whose automatic note names the real start date, notes typed with a
date and a time). The attacker reads every file of the pseudonymised bundle, the zip directory
included, and lays the real rows beside the pseudonymised ones."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
import zoneinfo

import pandas as pd
import pytest

from backcare import reports as R
from backcare.bundle import export_bundle, read_bundle
from backcare.reports.privacy import hashed_ids, pseudonym, pseudonym_key
from backcare.store import open_store
from tests.support.real_use import PSFS_ACTIVITIES, use_the_app

LONDON = zoneinfo.ZoneInfo("Europe/London")
TIME_COLUMNS = {  # table: (id column, hash prefix, timestamp columns)
    "sessions": ("session_id", "S", ("started_at", "ended_at")),
    "pain": ("pain_id", "N", ("recorded_at",)),
    "annotations": ("annotation_id", "A", ("created_at",)),
    "questionnaires": ("response_id", "Q", ("recorded_at",)),
}
DAY_COLUMNS = {"sessions": "day", "pain": "day", "annotations": "day", "questionnaires": "day"}
HEX_RUN = re.compile(r"[0-9a-f]{10,}")  # keyed hashes and sha256 digests: not dates


@pytest.fixture(scope="module")
def used(tmp_path_factory):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('used') / 'used.db'}")
    pid = use_the_app(store)
    yield store, pid
    store.close()


def real_strings(store, pid) -> tuple[set[str], set[str]]:
    """(every real date the patient's data touches, in common spellings; every real time of
    day of a record, as HH:MM in UTC and in London)."""
    stamps = pd.concat(
        [store.sessions(pid)[c] for c in ("started_at", "ended_at")]
        + [store.pain(pid)["recorded_at"], store.annotations(pid)["created_at"]]
        + [store.questionnaires(pid)["recorded_at"]]
    ).dropna()
    first = min(store.sessions(pid)["day"].min(), store.prescriptions(pid)["valid_from"].min())
    days = pd.date_range(
        first - pd.Timedelta(days=7), pd.Timestamp.now().normalize() + pd.Timedelta(days=1)
    )
    spellings = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d/%m/%Y", "%m/%d/%Y", "%d %b %Y", "%d %B %Y")
    dates = {d.strftime(f) for d in days for f in spellings}
    times = {t.strftime("%H:%M") for t in stamps} | {
        t.tz_convert(LONDON).strftime("%H:%M") for t in stamps
    }
    return dates, times - {"00:00"}  # a real record at exactly midnight would read like the fake


def bundle_text(path) -> tuple[str, list[zipfile.ZipInfo]]:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        text = "\n".join(i.filename + "\n" + zf.read(i).decode() for i in infos)
    return HEX_RUN.sub("#", text), infos


@pytest.mark.parametrize("keep_text", [False, True])
def test_no_real_date_or_time_is_in_any_file_of_a_pseudonymised_bundle(used, tmp_path, keep_text):
    store, pid = used
    path = tmp_path / "p.zip"
    export_bundle(store, pid, path, pseudonymise=True, keep_text=keep_text)
    text, infos = bundle_text(path)
    dates, times = real_strings(store, pid)
    assert not [d for d in dates if d in text]
    assert not [t for t in times if t in text]
    for year in ("2025", "2026", "2027"):
        assert year not in text
    assert "Dr K" not in text  # the physio who wrote the programme, notes and GROC: an alias
    # the zip directory: no real modification time on any entry
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    with zipfile.ZipFile(path) as zf:
        package = json.loads(zf.read("datapackage.json"))
    assert "created" not in package  # the export time would date the data
    assert package["backcare"]["times_of_day"] is False
    if keep_text:
        _, frames = read_bundle(path)
        notes = " ".join(frames["annotations"]["text"])
        # the automatic notes are kept with their start dates moved like every other date
        assert re.search(r"Programme from 2000-\d\d-\d\d: ", notes)
        assert "at hh:mm" in " ".join(frames["sessions"]["notes"])
        # the activities the patient named for PSFS are kept like notes: dates moved, times hidden
        assert "walk to the GP at hh:mm on 2000-" in " ".join(frames["questionnaires"]["answers"])
    else:  # the activities a patient names are free text: left out, the ratings kept
        for word in ("walk to the GP", "shopping", "Gärtnern", "bending"):
            assert word not in text
        assert {a.split()[-1] for a in PSFS_ACTIVITIES} == {"2026-03-29", "shopping", "é"}
        assert "activity 1" in text


def test_no_constant_offset_recovers_the_real_times(used, tmp_path):
    store, pid = used
    path = tmp_path / "p.zip"
    export_bundle(store, pid, path, pseudonymise=True, keep_text=True)
    _, frames = read_bundle(path)
    key = pseudonym_key(store)
    real = {"sessions": store.sessions(pid), "pain": store.pain(pid)}
    real["annotations"] = store.annotations(pid)
    real["questionnaires"] = store.questionnaires(pid)
    for table, (id_col, prefix, columns) in TIME_COLUMNS.items():
        # the attacker lines up each pseudonymised row with its real row (here by the keyed
        # hash; without the key, by order would do)
        r = real[table].assign(_key=hashed_ids(key, prefix, real[table][id_col]))
        fake = frames[table].set_index(id_col).loc[r["_key"]]
        assert len(fake) == len(r) >= 2
        for col in columns:
            shown = pd.to_datetime(fake[col], format="ISO8601", utc=True)
            # the files hold no time of day at all: every time is 00:00:00 UTC ...
            assert (shown == shown.dt.floor("D")).all(), (table, col)
            # ... so no one offset maps the shown times onto the real ones
            offsets = set(r[col].to_numpy() - shown.to_numpy())
            assert len(offsets) > 1, (table, col, offsets)
            # the date shown is the real local date moved by whole weeks
            local = r[col].dt.tz_convert(LONDON).dt.tz_localize(None).dt.normalize()
            moved = local.to_numpy() - shown.dt.tz_localize(None).to_numpy()
            assert {pd.Timedelta(m).days % 7 for m in moved} == {0}, (table, col)


def test_days_move_by_one_whole_week_shift_that_the_bundle_does_not_reveal(used, tmp_path):
    """Days keep their weekday and spacing (weekly adherence and trends need both), so one
    whole-week shift maps all of them back: it is by design, and it is not in the bundle. The
    first day lands in the week of 2000-01-03 whatever the real calendar, so only someone who
    already knows a real date of this patient can work the shift out."""
    store, pid = used
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    export_bundle(store, pid, a, pseudonymise=True)
    export_bundle(store, pid, b, pseudonymise=True)
    _, fa = read_bundle(a)
    real = store.sessions(pid)["day"]
    shown = pd.to_datetime(fa["sessions"]["day"])
    shifts = set((real.to_numpy() - shown.to_numpy()).tolist())
    assert len(shifts) == 1 and pd.Timedelta(shifts.pop()).days % 7 == 0
    first = pd.to_datetime(fa["programmes"]["valid_from"]).min()  # the first record's day
    assert pd.Timestamp("2000-01-03") <= first < pd.Timestamp("2000-01-10")
    assert bundle_text(a)[0] == bundle_text(b)[0]  # two exports: nothing differs, nothing dated


def test_a_pseudonymised_report_with_text_kept_shows_no_real_date(used):
    store, pid = used
    alias = pseudonym(pseudonym_key(store), pid)
    rep = R.load_report(store, pid, "", "", pseudonymise=True, pseudonym=alias, keep_text=True)
    dates, times = real_strings(store, pid)
    shown = " ".join(
        [*rep.data.annotations["text"], *rep.sessions["notes"], *rep.prescriptions["note"]]
    )
    assert "Programme from 2000-" in shown and "at hh:mm" in shown
    assert not [d for d in dates if d in shown] and not [t for t in times if t in shown]
    for frame in (rep.sessions, rep.data.annotations, rep.prescriptions):
        for col in frame.columns:
            if frame[col].dtype.kind == "M":
                assert frame[col].dropna().dt.year.max() < 2001, col
    assert dt.date.today().isoformat() not in shown
    # times are cut to the patient's local date (London), not the UTC one: the session saved at
    # 23:30 UTC on 29 March (00:30 on the 30th in London) shows the day it counts for
    started = rep.sessions["started_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    assert (started == pd.to_datetime(rep.sessions["day"])).all()
