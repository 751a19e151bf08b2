"""Patient bundles: lossless round trip, idempotent import, damaged bundles refused, pseudonyms."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile

import pandas as pd
import pytest

from backcare.bundle import export_bundle, import_bundle, read_bundle
from backcare.errors import BundleError
from backcare.reports.privacy import pseudonym, pseudonym_key
from backcare.store import open_store
from tests.support.stores import row_counts

END = dt.date(2026, 5, 31)
PID = "demo-0002"


@pytest.fixture(scope="module")
def source(demo_copy):
    store = open_store(demo_copy(patients=3, days=90, seed=11, end=END))
    # free text a browser could run, to check it survives the trip as text
    store.save_session(
        PID,
        [{"exercise_id": "plank", "done": True, "hold_s": 45}],
        day=END,
        pain_before=4,
        notes='<script>alert(1)</script> & "quotes", commas\nnew line',
        session_id="xss-1",
        red_flags=["night-pain", "fever-weight-loss"],
    )
    store.add_annotation(
        PID, "<img src=x onerror=alert(1)>", day=END, author="Dr <b>K</b>", kind="milestone"
    )
    yield store
    store.close()


@pytest.fixture
def bundle(source, tmp_path):
    path = tmp_path / "p.zip"
    export_bundle(source, PID, path)
    return path


def _snapshot(store, pid):
    drop = {"created_at", "updated_at", "programme_id"}
    frames = [
        store.sessions(pid),
        store.items(pid),
        store.pain(pid),
        store.annotations(pid),
        store.prescriptions(pid),
        store.patients().query("patient_id == @pid"),
    ]
    return [
        f.drop(columns=[c for c in f.columns if c in drop]).reset_index(drop=True) for f in frames
    ]


def test_round_trip_is_lossless(source, bundle, store):
    added = import_bundle(store, bundle)
    assert added["patients"] == 1 and added["sessions"] == len(source.sessions(PID))
    for a, b in zip(_snapshot(source, PID), _snapshot(store, PID), strict=True):
        pd.testing.assert_frame_equal(a, b)
    notes = store.get_session("xss-1").notes
    assert notes == '<script>alert(1)</script> & "quotes", commas\nnew line'
    # the daily summary was built for the imported rows too
    assert int(store.daily(PID)["sessions"].sum()) == len(source.sessions(PID))


def test_importing_twice_duplicates_nothing(bundle, store):
    import_bundle(store, bundle)
    before = row_counts(store)
    again = import_bundle(store, bundle)
    assert row_counts(store) == before
    assert again == {
        "patients": 0,
        "programmes": 0,
        "sessions": 0,
        "items": 0,
        "pain": 0,
        "annotations": 0,
    }


def test_manifest_documents_columns_versions_and_checksums(bundle):
    manifest, frames = read_bundle(bundle)
    assert manifest["format"] == "backcare-bundle" and manifest["schema_version"] == 3
    with zipfile.ZipFile(bundle) as zf:
        for name, meta in manifest["files"].items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == meta["sha256"]
            assert list(meta["columns"]) == list(frames[name].columns)
            assert all(meta["columns"].values())


def _rewrite(src, dst, *, change=None, fix_checksum=True, drop=None, add=None):
    with zipfile.ZipFile(src) as zin:
        files = {n: zin.read(n) for n in zin.namelist()}
    manifest = json.loads(files["manifest.json"])
    if change:
        name, fn = change
        files[name] = fn(files[name])
        if fix_checksum:
            manifest["files"][name]["sha256"] = hashlib.sha256(files[name]).hexdigest()
    if drop:
        files.pop(drop)
    if add:
        files.update(add)
    files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(dst, "w") as zout:
        for n, data in files.items():
            zout.writestr(n, data)
    return dst


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {
                "change": ("sessions.csv", lambda b: b.replace(b",4,", b",5,", 1)),
                "fix_checksum": False,
            },
            "does not match its checksum",
        ),
        (
            {"change": ("items.csv", lambda b: b.replace(b"plank", b"yoga", 1))},
            "exercise_id: 'yoga'",
        ),
        ({"change": ("sessions.csv", lambda b: b.replace(b",4,", b",14,", 1))}, "pain_"),
        ({"change": ("pain.csv", lambda b: b.replace(b"morning", b"brunch", 1))}, "context"),
        (
            {"change": ("programmes.csv", lambda b: b.replace(b",7\n", b",seven\n", 1))},
            "times_per_week",
        ),
        (
            {"change": ("sessions.csv", lambda b: b.replace(b",demo-0002,", b",demo-0003,", 1))},
            "another patient",
        ),
        ({"change": ("sessions.csv", lambda b: b.split(b"\n", 1)[1])}, "columns"),
        ({"drop": "items.csv"}, "items.csv is missing"),
        ({"add": {"evil.py": b"print(1)"}}, "unexpected files"),
        ({}, None),  # an untouched copy imports fine
    ],
)
def test_damaged_or_altered_bundles_are_refused_and_write_nothing(
    bundle, store, tmp_path, kwargs, message
):
    bad = _rewrite(bundle, tmp_path / "bad.zip", **kwargs)
    before = row_counts(store)
    if message is None:
        import_bundle(store, bad)
        return
    with pytest.raises(BundleError, match=message):
        import_bundle(store, bad)
    assert row_counts(store) == before


def test_not_a_zip_is_refused(store, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(BundleError, match="not a readable bundle"):
        import_bundle(store, junk)


def test_conflicting_row_is_refused(bundle, store, tmp_path):
    import_bundle(store, bundle)
    changed = _rewrite(
        bundle,
        tmp_path / "c.zip",
        change=(
            "annotations.csv",
            lambda b: b.replace(b"Flare-up reported", b"Flare-up REPORTED", 1),
        ),
    )
    before = row_counts(store)
    with pytest.raises(BundleError, match="different content"):
        import_bundle(store, changed)
    assert row_counts(store) == before


def test_pseudonymised_bundle_hides_identity_and_free_text(source, tmp_path):
    path = tmp_path / "pseudo.zip"
    manifest = export_bundle(source, PID, path, pseudonymise=True)
    alias = pseudonym(pseudonym_key(source), PID)
    assert manifest["patient_id"] == alias and alias.startswith("P-")
    with zipfile.ZipFile(path) as zf:
        blob = b"".join(zf.read(n) for n in zf.namelist() if n.endswith(".csv"))
    name = source.patients().set_index("patient_id").loc[PID, "name"]
    for secret in (
        PID.encode(),
        name.encode(),
        b"script",
        b"onerror",
        b"Flare-up reported",
        b"2026-",
    ):
        assert secret not in blob, secret
    _, frames = read_bundle(path)
    days = pd.to_datetime(frames["sessions.csv"]["day"])
    real = source.sessions(PID)["day"]
    # dates shifted by whole weeks: weekdays are kept, day 1 is in the week of 2000-01-03
    assert list(days.dt.day_of_week) == list(real.dt.day_of_week)
    assert pd.Timestamp("2000-01-03") <= days.min() < pd.Timestamp("2000-01-10")
    assert (days.max() - days.min()) == (real.max() - real.min())


def test_pseudonym_is_stable_and_text_kept_when_asked(source, tmp_path):
    a = export_bundle(source, PID, tmp_path / "a.zip", pseudonymise=True)
    b = export_bundle(
        source, PID, tmp_path / "b.zip", pseudonymise=True, keep_text=True, relative_dates=False
    )
    assert a["patient_id"] == b["patient_id"]
    _, frames = read_bundle(tmp_path / "b.zip")
    assert "<script>alert(1)</script>" in " ".join(frames["sessions.csv"]["notes"].dropna())
    assert frames["sessions.csv"]["day"].max() == END.isoformat()


def test_pseudonymised_bundle_imports_under_its_pseudonym(source, store, tmp_path):
    path = tmp_path / "pseudo.zip"
    manifest = export_bundle(source, PID, path, pseudonymise=True)
    import_bundle(store, path)
    assert len(store.sessions(manifest["patient_id"])) == len(source.sessions(PID))


def test_cli_export_and_import(source, tmp_path, capsys):
    from backcare.cli import main

    out = tmp_path / "cli.zip"
    assert (
        main(["export", "--patient", PID, "--out", str(out), "--db", str(source.engine.url)]) == 0
    )
    assert "wrote" in capsys.readouterr().out
    target = f"sqlite:///{tmp_path / 't.db'}"
    assert main(["import", str(out), "--db", target]) == 0
    assert "imported 1 patients" in capsys.readouterr().out
    assert main(["export", "--patient", "nobody", "--out", str(out), "--db", target]) == 2
