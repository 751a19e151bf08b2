"""Everything backcare creates that holds health data is its owner's only: 0600 files, 0700
folders, from the moment they exist (under the usual umask 022, which would give 0644)."""

from __future__ import annotations

import os
import stat
import zipfile

import pytest

from backcare.bundle import export_bundle
from backcare.owner_only import private_dir, write_private
from backcare.store import open_store
from tests.support.stores import add_default_patient


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def usual_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_store_its_wal_and_shm_and_the_data_folder_are_owner_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///data/backcare.db")  # the default place, made on first use
    add_default_patient(store)  # a write: the -wal and -shm files exist now
    db = tmp_path / "data" / "backcare.db"
    assert mode(tmp_path / "data") == 0o700
    assert mode(db) == 0o600
    for extra in ("-wal", "-shm"):
        assert (db.parent / (db.name + extra)).exists(), extra
        assert mode(db.parent / (db.name + extra)) == 0o600, extra
    store.close()


def test_the_checkouts_data_folder_made_by_git_is_made_owner_only_with_the_store(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir(mode=0o755)  # as git checks it out (it holds a README)
    open_store("sqlite:///data/backcare.db").close()
    assert mode(tmp_path / "data") == 0o700 and mode(tmp_path / "data" / "backcare.db") == 0o600
    elsewhere = tmp_path / "shared"
    elsewhere.mkdir(mode=0o755)
    open_store(f"sqlite:///{elsewhere / 'x.db'}").close()  # a folder the user chose: theirs
    assert mode(elsewhere) == 0o755 and mode(elsewhere / "x.db") == 0o600


def test_a_store_in_nested_new_folders(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'a' / 'b' / 'store.db'}")
    store.close()
    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == 0o700
    assert mode(tmp_path / "a" / "b" / "store.db") == 0o600


def test_bundles_are_owner_only_even_replacing_a_readable_file(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    pid = add_default_patient(store)
    out = tmp_path / "exports" / "p1.zip"
    export_bundle(store, pid, out)
    assert mode(out) == 0o600 and mode(tmp_path / "exports") == 0o700
    out.chmod(0o644)  # an older bundle, readable by all: a new export does not inherit that
    export_bundle(store, pid, out, pseudonymise=True)
    assert mode(out) == 0o600
    assert not (out.parent / "p1.zip.part").exists()
    with zipfile.ZipFile(out) as zf:  # and the entries say so to whoever unzips them
        assert {i.external_attr >> 16 for i in zf.infolist()} == {0o600}
    store.close()


def test_the_helpers_create_with_the_final_mode(tmp_path):
    folder = private_dir(tmp_path / "x" / "y")
    assert mode(tmp_path / "x") == mode(folder) == 0o700
    (folder / "f").write_bytes(b"old")
    (folder / "f").chmod(0o666)
    write_private(folder / "f", b"new")
    assert (folder / "f").read_bytes() == b"new" and mode(folder / "f") == 0o600
    existing = tmp_path / "shared"
    existing.mkdir(mode=0o755)
    private_dir(existing)  # a folder the user made is theirs to decide
    assert mode(existing) == 0o755
