"""Session-wide test set-up: every test and every notebook sees a throwaway demo store.

BACKCARE_DB is pointed at a temporary SQLite file before anything opens a store, so no test
and no notebook run under nbval can ever read or write the user's data/ folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="backcare-test-"))


def pytest_configure(config):
    from backcare.demo import fill_demo
    from backcare.store import open_store

    url = f"sqlite:///{_TMP / 'demo.db'}"
    os.environ["BACKCARE_DB"] = url
    os.environ.pop("BACKCARE_CATALOG", None)
    with open_store(url) as store:
        fill_demo(store, patients=4, days=70, seed=7, progress=False)


def pytest_unconfigure(config):
    shutil.rmtree(_TMP, ignore_errors=True)
