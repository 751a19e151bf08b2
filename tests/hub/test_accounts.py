"""The hub's accounts: argon2id hashes, refusals alike, bad input refused with one line and
nothing written, owner-only files; and which URLs a patient's server lets through."""

from __future__ import annotations

import re
import stat

import pytest

from backcare.errors import BackcareError
from backcare.hub.accounts import Accounts, add_account, disable_account
from backcare.hub.guard import refused_pattern
from backcare.store import open_store
from tests.support.hub import add_account as cli_add
from tests.support.hub import cli
from tests.support.stores import add_default_patient


@pytest.fixture
def store_db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(url) as store:
        add_default_patient(store, "p1", "Pat One")
    return url


def test_accounts_are_hashed_and_refused_alike(tmp_path, store_db):
    folder = tmp_path / "hub"
    add_account(folder, store_db, "pat", "patient", "p1", "correct horse")
    add_account(folder, store_db, "phil", "physio", None, "another secret")
    accounts = Accounts(folder)
    raw = (folder / "accounts.sqlite").read_bytes()
    assert b"correct horse" not in raw and b"$argon2id$" in raw
    assert accounts.verify("pat", "correct horse").patient_id == "p1"
    assert accounts.verify("phil", "another secret").kind == "physio"
    assert accounts.verify("pat", "wrong password") is None
    assert accounts.verify("nobody", "correct horse") is None
    disable_account(folder, store_db, "pat")
    assert accounts.verify("pat", "correct horse") is None
    assert [(a.name, a.disabled) for a in accounts.all()] == [("pat", True), ("phil", False)]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "accounts.sqlite").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("name", "kind", "patient", "password", "message"),
    [
        ("Pat", "patient", "p1", "long enough pw", "NAME: 'Pat' is not allowed"),
        ("pat/x", "patient", "p1", "long enough pw", "NAME: 'pat/x' is not allowed"),
        ("pat", "patient", "nobody", "long enough pw", "--patient: 'nobody' not found"),
        ("pat", "patient", "p1", "short", "a password of 5 characters is not allowed"),
        ("pat", "physio", "p1", "long enough pw", "a physiotherapist's account has no patient"),
    ],
)
def test_bad_input_writes_nothing(tmp_path, store_db, name, kind, patient, password, message):
    folder = tmp_path / "hub"
    with pytest.raises(BackcareError, match=re.escape(message)):
        add_account(folder, store_db, name, kind, patient, password)
    assert Accounts(folder).all() == []


def test_a_name_is_taken_once(tmp_path, store_db):
    folder = tmp_path / "hub"
    add_account(folder, store_db, "pat", "patient", "p1", "correct horse")
    with pytest.raises(BackcareError, match="an account 'pat' already exists"):
        add_account(folder, store_db, "pat", "physio", None, "another secret")
    assert [a.kind for a in Accounts(folder).all()] == ["patient"]


def test_the_cli_adds_lists_and_disables(tmp_path, store_db):
    folder = tmp_path / "hub"
    done = cli_add(folder, store_db, "pat", "correct horse", "--patient", "p1")
    assert done.returncode == 0 and done.stdout == "added account pat (patient p1)\n"
    env = {"BACKCARE_DB": store_db, "BACKCARE_HUB_DIR": str(folder)}
    bad = cli_add(folder, store_db, "kim", "correct horse", "--patient", "p9")
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "backcare: error: --patient: 'p9' not found; expected a patient of this store "
        "(`backcare patients` lists them)"
    ]
    no_password = cli(["account", "add", "kim", "--physio"], env)
    assert no_password.returncode == 2 and len(no_password.stderr.splitlines()) == 1
    assert cli(["account", "disable", "pat"], env).returncode == 0
    listed = cli(["account", "list"], env).stdout.splitlines()
    assert listed[1].split()[:4] == ["pat", "patient", "p1", "disabled"]
    assert len(listed) == 2


@pytest.mark.parametrize(
    ("path", "is_refused"),
    [
        ("/user/pat/", False),
        ("/user/pat/voila/render/01_today.ipynb", False),
        ("/user/pat/voila/static/voila.js", False),
        ("/user/pat/api/kernels/0f1e/channels", False),
        ("/user/pat/oauth_callback", False),
        ("/user/pat/lab", True),
        ("/user/pat/lab/tree/01_today.ipynb", True),
        ("/user/pat/tree", True),
        ("/user/pat/api/contents", True),
        ("/user/pat/api/contents/01_today.ipynb", True),
        ("/user/pat/api/terminals", True),
        ("/user/pat/terminals/websocket/1", True),
        ("/user/pat/api/kernels", True),
        ("/user/pat/api/kernels/0f1e/interrupt", True),
        ("/user/pat/api/sessions", True),
        ("/user/pat/files/01_today.ipynb", True),
        ("/user/pat/voila/render/03_clinic_overview.ipynb", True),
        ("/user/pat/voila/render/01_today.ipynb/../x", True),
        ("/user/pat/nbconvert/html/01_today.ipynb", True),
    ],
)
def test_a_patient_server_lets_through_the_checklist_only(path, is_refused):
    assert bool(re.fullmatch(refused_pattern("/user/pat/"), path)) is is_refused
