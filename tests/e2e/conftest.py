"""Browser tests: real servers on 127.0.0.1 (a free port, a token) against a temporary store,
driven by Debian's Chromium through Playwright. Never `playwright install`.

Without chromium or playwright the tests skip with the reason; with BACKCARE_REQUIRE_E2E=1
(as in .ci/run) they fail instead. Screenshots and timings go to tests/e2e/screenshots/
(git-ignored)."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from backcare.servers import app_command, free_port, lab_command, new_token
from tests.support import ROOT, require
from tests.support.servers import make_store, start_server, stop_server

SCREENSHOTS = Path(__file__).parent / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        require("BACKCARE_REQUIRE_E2E", "playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    """A fresh page; console errors and failed requests are printed (pytest -s) for diagnosis."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.on(
        "console",
        lambda m: print(f"[console {m.type}] {m.text[:300]}") if m.type == "error" else None,
    )
    pg.on("requestfailed", lambda r: print(f"[request failed] {r.url[:200]}"))
    pg.requested_hosts = set()  # every host the page asked for: the app must stay on 127.0.0.1
    pg.on(
        "request",
        lambda r: pg.requested_hosts.add(urlsplit(r.url).hostname or urlsplit(r.url).scheme),
    )
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def e2e_store(tmp_path) -> str:
    """A temporary store with one patient, Sam Example, on the default programme."""
    return make_store(tmp_path / "store.db")


@pytest.fixture
def app_server(e2e_store, tmp_path):
    """`backcare app`'s Voila server (same argv) on a free port with a fresh token."""
    port, token = free_port(), new_token()
    server = start_server(
        app_command(port),
        db_url=e2e_store,
        token=token,
        port=port,
        ready_path="/login",
        log=tmp_path / "voila.log",
    )
    yield server
    stop_server(server)


@pytest.fixture
def lab_server(e2e_store, tmp_path):
    """`backcare lab`'s JupyterLab (same argv, plus window.jupyterapp for the test's Run All).

    It serves a copy of the notebooks, so nothing the browser does (outputs, autosave) can
    reach the committed files."""
    port, token = free_port(), new_token()
    folder = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", folder)
    cmd = [*lab_command(port, folder), "--LabApp.expose_app_in_browser=True"]
    server = start_server(
        cmd,
        db_url=e2e_store,
        token=token,
        port=port,
        ready_path="/api/status",
        log=tmp_path / "lab.log",
    )
    yield server
    stop_server(server)
