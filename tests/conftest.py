"""Shared fixtures: a fresh temporary store, a patient on the default programme."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from backcare.domain.programme import default_programme
from backcare.store import Store, open_store

START = dt.date(2026, 1, 5)  # a Monday, safely in the past


def require(flag: str, reason: str) -> None:
    """Skip with reason, unless the environment makes the test mandatory (CI): then fail."""
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} ({flag}=1 makes this test mandatory)")
    pytest.skip(reason)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the BACKCARE_TEST_PG server; dropped afterwards."""
    admin_url = os.environ.get("BACKCARE_TEST_PG")
    if not admin_url:
        require("BACKCARE_REQUIRE_PG", "no PostgreSQL server: set BACKCARE_TEST_PG to a URL to run these")
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
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def store(store_url) -> Store:
    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture
def patient(store) -> str:
    """A patient 'p1' on the article's default programme from START."""
    store.add_patient("p1", "Test Patient", "Europe/London")
    store.set_programme("p1", default_programme(store.catalog, START), START)
    return "p1"


@pytest.fixture
def chromium_path() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if not path:
        require("BACKCARE_REQUIRE_E2E", "Debian's chromium is not installed (apt-get install chromium)")
    return path
