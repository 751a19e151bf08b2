"""Shared fixtures: a fresh temporary store, a patient on the default programme, demo stores
made once per session, the plotly renderer put back, Debian's chromium.

Plain helpers and constants (START, row_counts, frame builders, server helpers) live in
tests/support/; test modules import those, never this file."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import plotly.io as pio
import pytest
import sqlalchemy as sa

from backcare.demo import fill_demo
from backcare.store import Store, open_store
from tests.support import require
from tests.support.stores import add_default_patient


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the BACKCARE_TEST_PG server; dropped afterwards."""
    admin_url = os.environ.get("BACKCARE_TEST_PG")
    if not admin_url:
        require(
            "BACKCARE_REQUIRE_PG",
            "no PostgreSQL server: set BACKCARE_TEST_PG to a URL to run these",
        )
    admin_url = admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"backcare_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> Iterator[str]:
    """A URL for a new, empty store: every store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL for a new, empty PostgreSQL database (features only PostgreSQL has)."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def store(store_url) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture
def patient(store) -> str:
    """A patient 'p1' on the article's default programme from START."""
    return add_default_patient(store)


# ---- demo stores --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _demo_file(tmp_path_factory) -> Callable[..., Path]:
    """The one demo builder: a SQLite file filled by fill_demo once per argument set."""
    made: dict[tuple[int, int, int, dt.date], Path] = {}

    def build(*, patients: int, days: int, seed: int, end: dt.date) -> Path:
        key = (patients, days, seed, end)
        if key not in made:
            path = tmp_path_factory.mktemp("demo") / "demo.db"
            with open_store(f"sqlite:///{path}") as s:
                fill_demo(s, patients=patients, days=days, seed=seed, end=end, progress=False)
            made[key] = path
        return made[key]

    return build


@pytest.fixture(scope="session")
def demo_store(_demo_file) -> Iterator[Callable[..., Store]]:
    """demo_store(patients=, days=, seed=, end=): an open demo store, made once per session
    for these arguments and shared by every test that asks for them: read it, never write."""
    opened: dict[tuple[int, int, int, dt.date], Store] = {}

    def get(*, patients: int, days: int, seed: int, end: dt.date) -> Store:
        key = (patients, days, seed, end)
        if key not in opened:
            path = _demo_file(patients=patients, days=days, seed=seed, end=end)
            opened[key] = open_store(f"sqlite:///{path}")
        return opened[key]

    yield get
    for s in opened.values():
        s.close()


@pytest.fixture(scope="session")
def demo_copy(_demo_file, tmp_path_factory) -> Callable[..., str]:
    """demo_copy(patients=, days=, seed=, end=): the URL of a new copy of that demo store,
    for tests that write into their store."""

    def copy(*, patients: int, days: int, seed: int, end: dt.date) -> str:
        source = _demo_file(patients=patients, days=days, seed=seed, end=end)
        target = tmp_path_factory.mktemp("demo-copy") / "store.db"
        src, dst = sqlite3.connect(source), sqlite3.connect(target)
        try:
            src.backup(dst)  # a consistent copy, whatever a reader has open
        finally:
            src.close()
            dst.close()
        return f"sqlite:///{target}"

    return copy


# ---- other shared fixtures ------------------------------------------------------------------
@pytest.fixture
def restore_renderer() -> Iterator[None]:
    """Put plotly's default renderer back after a test that changes it."""
    before = pio.renderers.default
    yield
    pio.renderers.default = before


@pytest.fixture
def chromium_path() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    )
    if not path:
        require(
            "BACKCARE_REQUIRE_E2E",
            "Debian's chromium is not installed (apt-get install chromium)",
        )
    return path
