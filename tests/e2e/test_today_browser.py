"""Today's checklist in a real browser: the Voila app and the notebook in JupyterLab.

Each test ticks two exercises, sets pain before and after, clicks Save and then checks the
session in the store. The time from opening the page to the saved session is printed and
appended to screenshots/timings.txt (no timed assertions)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

from backcare.store import open_store

pytestmark = pytest.mark.e2e


XSS = 'sore <img src=x onerror="window.__backcare_xss=1">'
KERNEL_IDLE = """() => {
  const app = window.jupyterapp;
  const nb = app && app.commands.hasCommand('runmenu:run-all') && app.shell.currentWidget;
  const kernel = nb && nb.sessionContext && nb.sessionContext.session &&
    nb.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""


def set_pain(page, label: str, value: int) -> None:
    """Choose `value` (0-10) in the pain list labelled `label` (its first choice is 'not
    recorded', so the score is the option at value + 1)."""
    choice = page.get_by_role("combobox", name=label, exact=True)
    choice.select_option(index=value + 1)
    expect(choice).to_have_value(choice.locator("option").nth(value + 1).get_attribute("value"))


def exercise_row(page, name: str):
    return page.locator(".backcare-exercise").filter(
        has=page.get_by_role("checkbox", name=name, exact=True)
    )


def tick(page, name: str) -> None:
    box = page.get_by_role("checkbox", name=name, exact=True)
    box.check()
    assert box.is_checked()


def snap(page, path, *, whole: bool = True) -> None:
    """Screenshot: the first screen a user sees, or (whole) the page grown to fit the checklist.

    Voila and JupyterLab scroll an inner panel, so full_page alone shows one screen."""
    if not whole:
        page.screenshot(path=str(path))
        return
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 4000})
    bottom = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('.backcare-today')]"
        ".map(e => e.getBoundingClientRect().bottom + e.closest('*').scrollTop))"
    )
    page.set_viewport_size(
        {"width": size["width"], "height": int(min(4000, max(size["height"], bottom + 40)))}
    )
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def record_timing(folder: Path, what: str, seconds: float) -> None:
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {what}: {seconds:.1f} s"
    print(line)
    with open(folder / "timings.txt", "a", encoding="utf-8") as f:
        f.write(line + "\n")


def stored(url: str):
    with open_store(url) as store:
        return store.sessions("sam"), store.items("sam").set_index("exercise_id")


def test_the_voila_app_saves_a_session(app_server, e2e_store, page, screenshots):
    t0 = time.perf_counter()
    page.goto(f"{app_server.base}/?token={app_server.token}")
    page.get_by_role("checkbox", name="Plank", exact=True).wait_for(timeout=120_000)
    t_ready = time.perf_counter() - t0
    snap(page, screenshots / "app_opened.png", whole=False)
    assert page.get_by_text("Patient: Sam Example").is_visible()
    assert page.get_by_text("Before starting a new exercise programme").count() == 1
    assert page.get_by_text("PatientApp(store)").count() == 0  # code hidden

    tick(page, "Pelvic Tilt")
    plank = exercise_row(page, "Plank")  # the second one through the hold timer, shortened to 2 s
    plank.locator(".backcare-input-hold-s input").fill("2")
    plank.locator(".backcare-input-hold-s input").press("Tab")
    plank.get_by_role("button", name="Start 2 s hold").click()
    expect(page.get_by_role("checkbox", name="Plank", exact=True)).to_be_checked(timeout=30_000)
    set_pain(page, "Pain before", 6)
    set_pain(page, "Pain after", 3)
    notes = page.get_by_placeholder("How did it go? (optional)")
    notes.fill(XSS)
    notes.press("Tab")
    page.locator("button.backcare-save").click()
    page.get_by_text("Saved your session").wait_for()
    t_saved = time.perf_counter() - t0
    snap(page, screenshots / "app_saved.png")
    assert page.get_by_text(f"Notes: {XSS}").is_visible()  # shown as typed, as text
    assert page.evaluate("() => window.__backcare_xss") is None  # and never run as HTML
    # no third party; blob: is the hold timer's ES module, made in the page by anywidget
    assert page.requested_hosts <= {"127.0.0.1", "data", "blob"}, page.requested_hosts
    record_timing(screenshots, "Voila app: page opened -> checklist shown", t_ready)
    record_timing(
        screenshots, "Voila app: page opened -> session saved (incl. a 2 s hold timer)", t_saved
    )

    sessions, items = stored(e2e_store)
    assert len(sessions) == 1
    assert (sessions.loc[0, "pain_before"], sessions.loc[0, "pain_after"]) == (6, 3)
    assert sessions.loc[0, "notes"] == XSS
    assert sorted(items.index[items["done"]]) == ["pelvic-tilt", "plank"]
    assert items.loc["plank", "hold_s"] == 2 and items.loc["pelvic-tilt", "reps"] == 10

    page.locator("button.backcare-save").click()  # a second click stores nothing more
    page.get_by_text("Already saved").wait_for()
    assert len(stored(e2e_store)[0]) == 1


def test_the_notebook_in_jupyterlab_saves_a_session(lab_server, e2e_store, page, screenshots):
    t0 = time.perf_counter()
    page.goto(f"{lab_server.base}/lab/tree/01_today.ipynb?token={lab_server.token}")
    page.wait_for_function(KERNEL_IDLE, timeout=120_000)  # Run All before that would run nothing
    page.evaluate("() => window.jupyterapp.commands.execute('runmenu:run-all')")
    page.get_by_role("checkbox", name="Plank", exact=True).wait_for(timeout=120_000)
    t_ready = time.perf_counter() - t0

    tick(page, "Pelvic Tilt")
    tick(page, "Cat-Cow Stretch")
    set_pain(page, "Pain before", 5)
    set_pain(page, "Pain after", 4)
    page.locator("button.backcare-save").click()
    page.get_by_text("Saved your session").wait_for()
    t_saved = time.perf_counter() - t0
    snap(page, screenshots / "lab_saved.png")
    record_timing(screenshots, "JupyterLab: page opened -> Run All -> checklist shown", t_ready)
    record_timing(screenshots, "JupyterLab: page opened -> session saved", t_saved)
    assert page.requested_hosts <= {"127.0.0.1", "data", "blob"}, page.requested_hosts

    sessions, items = stored(e2e_store)
    assert len(sessions) == 1
    assert (sessions.loc[0, "pain_before"], sessions.loc[0, "pain_after"]) == (5, 4)
    assert sorted(items.index[items["done"]]) == ["cat-cow", "pelvic-tilt"]
    assert pd.isna(items.loc["plank", "hold_s"])
