"""Shared fixtures: a fresh temporary store, a patient on the default programme."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest

from backcare.programme import default_programme
from backcare.store import Store, open_store

START = dt.date(2026, 1, 5)  # a Monday, safely in the past


def require(flag: str, reason: str) -> None:
    """Skip with reason, unless the environment makes the test mandatory (CI): then fail."""
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} ({flag}=1 makes this test mandatory)")
    pytest.skip(reason)


@pytest.fixture
def store_url(tmp_path) -> str:
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
