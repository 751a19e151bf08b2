"""Nothing a user typed runs as code in the widgets, proved in a real browser.

A store holds a patient named, an annotation written, an annotation author, a programme
note and session notes such as ``<img src=x onerror=alert(1)>`` and
``<script>alert(1)</script>``. A notebook showing the physiotherapist's views is served by
Voila on 127.0.0.1 with a token and opened in headless Chromium (Debian's, through
Playwright; never `playwright install`). The test also types such text into the forms and
saves it. No dialog may ever open, no injected element may exist, and the text must be
visible literally."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from backcare.programme import Prescription
from backcare.servers import free_port, new_token
from backcare.store import open_store

from ..conftest import require

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SVG = '"><svg onload=alert(1)>'
INJECTED = "img[src='x'], svg[onload], .backcare-physio script"  # what the payloads would create
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]

NOTEBOOK_CELLS = [
    "import os\n"
    "from backcare.physio_view import PhysioView\n"
    "from backcare.store import open_store\n"
    "store = open_store(os.environ['BACKCARE_DB'], upgrade=False)",
    "PhysioView(store, 'xss')",
]


def hostile_store(path: Path) -> str:
    """A store whose every user-typed field carries a script; return its URL."""
    url = f"sqlite:///{path}"
    with open_store(url) as store:
        store.add_patient("xss", IMG, "Europe/London")
        start = dt.date.today() - dt.timedelta(days=30)
        store.set_programme("xss", [Prescription("plank", hold_s=30), Prescription("cat-cow", reps=10)],
                            start, author=IMG, note=SCRIPT)
        store.add_annotation("xss", SCRIPT, day=start + dt.timedelta(days=2), author=IMG, kind="flare-up")
        store.add_annotation("xss", f"{IMG} and {SVG}", day=start + dt.timedelta(days=3), author=SCRIPT)
        store.save_session("xss", [{"exercise_id": "plank", "done": True}], day=start + dt.timedelta(days=4),
                           pain_before=4, notes=IMG)
    return url


def start_voila(notebook: Path, db_url: str, tmp: Path) -> tuple[subprocess.Popen, str]:
    """Voila serving notebook on 127.0.0.1 with a fresh token; return the process and the URL."""
    port, token = free_port(), new_token()
    env = {**os.environ, "BACKCARE_DB": db_url,
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    for var in ("JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "JUPYTER_CONFIG_DIR"):
        env[var] = str(tmp / "home" / var.lower())
        Path(env[var]).mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1",
           f"--Voila.port={port}", "--Voila.port_retries=0", f"--Voila.token={token}",
           "--VoilaConfiguration.strip_sources=True", "--VoilaConfiguration.show_tracebacks=False",
           "--theme=light"]
    log = open(tmp / "voila.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=notebook.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            raise RuntimeError((tmp / "voila.log").read_text(errors="replace")[-3000:])
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}", timeout=5)
            break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            if time.monotonic() > deadline:
                stop(proc)
                raise RuntimeError("voila did not start:\n" + (tmp / "voila.log").read_text(errors="replace")) from None
            time.sleep(0.25)
    return proc, f"http://127.0.0.1:{port}/?token={token}"


def stop(proc: subprocess.Popen) -> None:
    """Stop Voila and the kernels it started (its own process group only)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture
def xss_app(tmp_path):
    """The hostile store served in a notebook by Voila: (url, store url)."""
    db = hostile_store(tmp_path / "store.db")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in NOTEBOOK_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "app").mkdir()
    path = tmp_path / "app" / "xss.ipynb"
    nbformat.write(nb, path)
    proc, url = start_voila(path, db, tmp_path)
    yield url, db
    stop(proc)


@pytest.fixture
def page(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        require("BACKCARE_REQUIRE_E2E", "playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            pg = context.new_page()
            pg.set_default_timeout(60_000)
            yield pg
        finally:
            browser.close()


def test_user_text_is_shown_literally_and_never_runs(page, xss_app):
    url, db = xss_app
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.locator(".backcare-physio").wait_for(timeout=120_000)
    page.locator(".backcare-timeline").wait_for()
    page.wait_for_timeout(500)  # let any injected handler fire
    assert dialogs == []
    assert page.locator(INJECTED).count() == 0

    # stored text, shown literally: patient name, annotation text and author, programme note
    assert page.locator(".backcare-physio-patient").inner_text() == f"{IMG} (xss)"
    option = page.locator(".backcare-physio option").first.inner_text().replace("\xa0", " ")
    assert option == f"{IMG} (xss)"  # the picker shows it as text
    assert page.locator(".backcare-annotation-text", has_text=SCRIPT).first.is_visible()
    assert page.locator(".backcare-annotation-text", has_text=f"{IMG} and {SVG}").is_visible()
    assert page.locator(".backcare-author", has_text=f"by {IMG}").first.is_visible()
    assert page.locator(".backcare-annotation-text", has_text=f". {SCRIPT}").is_visible()  # programme note
    assert page.locator(".backcare-editor-title", has_text=f"by {IMG} ({SCRIPT})").is_visible()

    # typed into the forms and saved through the widgets
    form = page.locator(".backcare-annotations")
    form.locator("textarea").fill(f"typed {IMG}")
    form.get_by_role("textbox", name="Author").fill(f"typed {SCRIPT}")
    form.get_by_role("button", name="Add to timeline").click()
    page.get_by_text("Added to the timeline").wait_for()
    page.locator(".backcare-annotation-text", has_text=f"typed {IMG}").wait_for()
    assert page.locator(".backcare-author", has_text=f"by typed {SCRIPT}").is_visible()

    editor = page.locator(".backcare-editor")
    editor.locator(".backcare-rx-row").filter(has_text="Plank").locator(".backcare-input-hold-s input").fill("45")
    editor.locator(".backcare-rx-row").filter(has_text="Plank").locator(".backcare-input-hold-s input").press("Tab")
    editor.get_by_role("textbox", name="Author").fill(SVG)
    editor.locator("textarea").fill(f"note {IMG}")
    editor.get_by_role("button", name="Save programme").click()
    page.get_by_text("Saved: new programme from").wait_for()
    page.locator(".backcare-annotation-text", has_text=f". note {IMG}").wait_for()
    page.wait_for_timeout(1000)  # let any injected handler fire

    assert page.locator(INJECTED).count() == 0
    assert dialogs == []
    with open_store(db) as store:
        notes = store.annotations("xss")
        assert f"typed {IMG}" in set(notes["text"])
        assert store.programme_on("xss", dt.date.today()).get("plank").hold_s == 45
        assert store.programme_on("xss", dt.date.today()).note == f"note {IMG}"
