"""The hub's accounts: a patient (who sees one patient's checklist) or a physiotherapist (who
works in JupyterLab on the whole clinic).

Kept in accounts.sqlite in the hub's owner-only folder: name, kind, patient id, an argon2id
password hash (argon2-cffi's PasswordHasher: a memory-hard hash, salted per password), and
whether the account is disabled. A wrong password, an unknown name and a disabled account
are refused alike: the same answer, after the same work (an unknown name is checked against
a dummy hash). On PostgreSQL each account also has its own database role
(backcare.store.row_security), made by add_account in the same step."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from backcare.errors import BackcareError, ValidationError
from backcare.hub.folder import ACCOUNTS_DB, ensure_dir
from backcare.owner_only import touch_private

Kind = Literal["patient", "physio"]
KINDS: tuple[Kind, ...] = ("patient", "physio")
# JupyterHub lower-cases names and puts them in URLs (/user/NAME/); PostgreSQL role names are
# '<prefix>_NAME' within 63 bytes. Refused rather than silently changed.
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
NAME_ALLOWED = "a lowercase letter, then up to 31 lowercase letters, digits, '-' or '_'"
PASSWORD_MIN = 10
PASSWORD_MAX = 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('patient', 'physio')),
    patient_id TEXT,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    CHECK ((kind = 'patient') = (patient_id IS NOT NULL))
)
"""


@dataclass(frozen=True)
class Account:
    """One hub account (the password hash stays in the file)."""

    name: str
    kind: Kind
    patient_id: str | None
    disabled: bool
    created_at: str


def check_name(name: object) -> str:
    """name if JupyterHub and PostgreSQL can use it as is, else ValidationError."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationError("NAME", name, NAME_ALLOWED)
    return name


def check_password(password: object, field: str = "password") -> str:
    """password if it is PASSWORD_MIN..PASSWORD_MAX characters on one line."""
    ok = isinstance(password, str) and PASSWORD_MIN <= len(password) <= PASSWORD_MAX
    if not ok or "\n" in str(password) or "\r" in str(password):
        # never echo a password: the error names its length only
        length = len(password) if isinstance(password, str) else 0
        raise BackcareError(
            f"{field}: a password of {length} characters is not allowed; expected "
            f"{PASSWORD_MIN} to {PASSWORD_MAX} characters on one line"
        )
    return str(password)


@functools.cache
def _hasher() -> object:
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of password (salted; the parameters are stored in the hash)."""
    from argon2 import PasswordHasher

    hasher = _hasher()
    assert isinstance(hasher, PasswordHasher)
    return hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not a password of any account")


def _matches(hashed: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    assert isinstance(hasher, PasswordHasher)
    try:
        return bool(hasher.verify(hashed, password))
    except (VerificationError, InvalidHashError):
        return False


class Accounts:
    """The accounts file of a hub folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / ACCOUNTS_DB

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            ensure_dir(self.folder)
            touch_private(self.path)
            con = sqlite3.connect(self.path, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise BackcareError(f"{self.path}: cannot open the accounts file ({exc})") from None
        try:
            try:
                con.execute(_SCHEMA)
            except sqlite3.Error as exc:
                raise BackcareError(f"{self.path}: cannot read the accounts file ({exc})") from None
            yield con
        finally:
            con.close()

    def get(self, name: str) -> Account | None:
        """The account called name, or None."""
        with self._connect() as con:
            row = con.execute(
                "SELECT name, kind, patient_id, disabled, created_at FROM accounts WHERE name = ?",
                (name,),
            ).fetchone()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        """Every account, by name."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT name, kind, patient_id, disabled, created_at FROM accounts ORDER BY name"
            ).fetchall()
        return [_account(r) for r in rows]

    def verify(self, name: str, password: str) -> Account | None:
        """The enabled account called name whose password this is, else None (the same for a
        wrong password, an unknown name and a disabled account)."""
        with self._connect() as con:
            row = con.execute(
                "SELECT name, kind, patient_id, disabled, created_at, password_hash "
                "FROM accounts WHERE name = ?",
                (name,),
            ).fetchone()
        hashed = row[5] if row else _dummy_hash()
        ok = _matches(hashed, password)
        if row is None or not ok or row[3]:
            return None
        return _account(row[:5])

    @contextlib.contextmanager
    def adding(
        self, name: str, kind: Kind, patient_id: str | None, password: str
    ) -> Iterator[None]:
        """Insert the account in a transaction committed when the with-block ends without an
        error (the block makes the database role): nothing is kept when either fails."""
        hashed = hash_password(password)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._connect() as con:
            try:
                con.execute(
                    "INSERT INTO accounts (name, kind, patient_id, password_hash, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (name, kind, patient_id, hashed, now),
                )
            except sqlite3.IntegrityError:
                con.rollback()
                raise BackcareError(f"NAME: an account {name!r} already exists") from None
            try:
                yield
            except BaseException:
                con.rollback()
                raise
            con.commit()

    def set_disabled(self, name: str) -> None:
        """Mark the account disabled (NotFound as BackcareError)."""
        with self._connect() as con:
            hit = con.execute("UPDATE accounts SET disabled = 1 WHERE name = ?", (name,)).rowcount
            con.commit()
        if not hit:
            raise BackcareError(f"NAME: no account {name!r} (`backcare account list` lists them)")


def _account(row: tuple[object, ...]) -> Account:
    name, kind, pid, disabled, created = row
    return Account(
        str(name),
        "patient" if kind == "patient" else "physio",
        None if pid is None else str(pid),
        bool(disabled),
        str(created),
    )


def add_account(
    folder: Path, store_url: str, name: str, kind: Kind, patient_id: str | None, password: str
) -> Account:
    """Add an account: name and password checked, the patient looked up in the store, and on
    PostgreSQL the account's database role made (row_security.create_role), all before
    anything is kept. BackcareError (nothing written) for any refusal."""
    from backcare.store import open_store
    from backcare.store import row_security as R

    check_name(name)
    if kind not in KINDS:
        raise ValidationError("kind", kind, "patient or physio")
    if kind == "patient":
        if patient_id is None:
            raise BackcareError("--patient: a patient account needs the patient's id")
    elif patient_id is not None:
        raise BackcareError("--patient: a physiotherapist's account has no patient")
    check_password(password)
    accounts = Accounts(folder)
    if accounts.get(name) is not None:
        raise BackcareError(f"NAME: an account {name!r} already exists")
    with open_store(store_url) as store:
        if patient_id is not None and store.patient(patient_id) is None:
            raise BackcareError(
                f"--patient: {patient_id!r} not found; expected a patient of this store "
                "(`backcare patients` lists them)"
            )
        with accounts.adding(name, kind, patient_id, password):
            if not store.is_sqlite:
                with store.transaction() as conn:
                    R.create_role(
                        conn, name, "patient" if kind == "patient" else "clinic", patient_id
                    )
    found = accounts.get(name)
    assert found is not None
    return found


def disable_account(folder: Path, store_url: str, name: str) -> Account:
    """Disable an account: it can no longer log in; on PostgreSQL its role's login is taken
    away and its open connections end. Returns the account as it was."""
    from backcare.store import open_store
    from backcare.store import row_security as R

    check_name(name)
    accounts = Accounts(folder)
    found = accounts.get(name)
    if found is None:
        raise BackcareError(f"NAME: no account {name!r} (`backcare account list` lists them)")
    accounts.set_disabled(name)
    with open_store(store_url) as store:
        if not store.is_sqlite:
            with store.transaction() as conn:
                R.close_login(conn, R.role_name(conn, name))
    return found
