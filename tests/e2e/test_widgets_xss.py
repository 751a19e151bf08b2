"""Nothing a user typed runs as code in the widgets, proved in a real browser.

A store holds a patient name, session notes, annotation texts and authors, and a programme
note and author such as ``<img src=x onerror=alert(1)>`` and ``<script>alert(1)</script>``.
A notebook showing today's checklist (TodayView) and the physiotherapist's views
(PhysioView: AnnotationView and ProgrammeEditor) is served by Voila, started the way
`backcare app` starts it (127.0.0.1, a token), and opened in headless Chromium. The test
also types such text into the forms and saves it. No dialog may ever open, no element the
payloads would create may exist, and the text must be shown literally."""

from __future__ import annotations

import datetime as dt

import pytest

from backcare.domain.programme import Prescription
from backcare.store import open_store
from tests.support.hostile import IMG, SCRIPT
from tests.support.servers import app_for_cells

pytestmark = pytest.mark.e2e

SVG = '"><svg onload=alert(1)>'
INJECTED = "img[src='x'], svg[onload], .backcare-today script, .backcare-physio script"

NOTEBOOK_CELLS = [
    "from backcare.ui.physio import PhysioView\n"
    "from backcare.store import open_store\n"
    "from backcare.ui.today import TodayView\n"
    "store = open_store(upgrade=False)",
    "TodayView(store, 'xss')",
    "PhysioView(store, 'xss')",
]


def hostile_store(path) -> str:
    """A store whose every user-typed field carries a script; return its URL."""
    url = f"sqlite:///{path}"
    with open_store(url) as store:
        store.add_patient("xss", IMG, "Europe/London")
        today = store.local_today("xss")
        start = today - dt.timedelta(days=30)
        store.set_programme(
            "xss",
            [Prescription("plank", hold_s=30), Prescription("cat-cow", reps=10)],
            start,
            author=IMG,
            note=SCRIPT,
        )
        store.add_annotation(
            "xss", SCRIPT, day=start + dt.timedelta(days=2), author=IMG, kind="flare-up"
        )
        store.add_annotation(
            "xss", f"{IMG} and {SVG}", day=start + dt.timedelta(days=3), author=SCRIPT
        )
        store.save_session(
            "xss",
            [{"exercise_id": "plank", "done": True}],
            day=start + dt.timedelta(days=4),
            pain_before=4,
            notes=SCRIPT,
        )
        store.save_session(
            "xss", [{"exercise_id": "plank", "done": True}], day=today, pain_before=3, notes=IMG
        )  # today's checklist opens on it
    return url


@pytest.fixture
def xss_app(tmp_path):
    """The hostile store, shown by a notebook served like `backcare app`: (server, store url)."""
    db = hostile_store(tmp_path / "store.db")
    with app_for_cells(NOTEBOOK_CELLS, db, tmp_path) as server:
        yield server, db


def test_user_text_is_shown_literally_and_never_runs(page, xss_app, screenshots):
    server, db = xss_app
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server.base}/?token={server.token}")
    page.locator(".backcare-physio .backcare-timeline").wait_for(timeout=120_000)
    page.locator(".backcare-today .backcare-exercise").first.wait_for()
    page.wait_for_timeout(500)  # let any injected handler fire
    assert dialogs == []
    assert page.locator(INJECTED).count() == 0

    # stored text, shown literally by the today view ...
    today = page.locator(".backcare-today")
    assert today.locator(".backcare-patient").inner_text().strip() == f"Patient: {IMG}"
    assert today.get_by_role("textbox", name="Notes").input_value() == IMG
    # ... and by the physiotherapist's views
    assert page.locator(".backcare-physio-patient").inner_text() == f"{IMG} (xss)"
    option = page.locator(".backcare-physio option").first.inner_text().replace("\xa0", " ")
    assert option == f"{IMG} (xss)"  # the picker shows it as text
    timeline = page.locator(".backcare-timeline")
    assert timeline.locator(".backcare-annotation-text", has_text=SCRIPT).first.is_visible()
    assert timeline.locator(".backcare-annotation-text", has_text=f"{IMG} and {SVG}").is_visible()
    assert timeline.locator(".backcare-author", has_text=f"by {IMG}").first.is_visible()
    assert timeline.locator(
        ".backcare-annotation-text", has_text=f". {SCRIPT}"
    ).is_visible()  # programme note
    assert page.locator(".backcare-editor-title", has_text=f"by {IMG} ({SCRIPT})").is_visible()

    # typed into the forms and saved through the widgets
    today.get_by_role("textbox", name="Notes").fill(f"felt ok {SVG}")
    today.get_by_role("button", name="Save").click()
    today.get_by_text("Updated your session").wait_for()
    assert today.locator(".backcare-success", has_text=f"Notes: felt ok {SVG}").is_visible()

    form = page.locator(".backcare-annotations")
    form.get_by_role("textbox", name="Text").fill(f"typed {IMG}")
    form.get_by_role("textbox", name="Author").fill(f"typed {SCRIPT}")
    form.get_by_role("button", name="Add to timeline").click()
    page.get_by_text("Added to the timeline").wait_for()
    timeline.locator(".backcare-annotation-text", has_text=f"typed {IMG}").wait_for()
    assert timeline.locator(".backcare-author", has_text=f"by typed {SCRIPT}").is_visible()

    editor = page.locator(".backcare-editor")
    hold = (
        editor.locator(".backcare-rx-row")
        .filter(has_text="Plank")
        .locator(".backcare-input-hold-s input")
    )
    hold.fill("45")
    hold.press("Tab")
    editor.get_by_role("textbox", name="Author").fill(SVG)
    editor.get_by_role("textbox", name="Note").fill(f"note {IMG}")
    editor.get_by_role("button", name="Save programme").click()
    page.get_by_text("Saved: new programme from").wait_for()
    timeline.locator(".backcare-annotation-text", has_text=f". note {IMG}").wait_for()
    assert page.locator(".backcare-editor-title", has_text=f"by {SVG} (note {IMG})").is_visible()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(screenshots / "widgets_xss.png"), full_page=True)

    assert page.locator(INJECTED).count() == 0
    assert dialogs == []
    assert page.requested_hosts <= {"127.0.0.1", "data", "blob"}, (
        page.requested_hosts
    )  # nothing fetched elsewhere
    with open_store(db) as store:
        day = store.local_today("xss")
        assert f"typed {IMG}" in set(store.annotations("xss")["text"])
        assert store.programme_on("xss", day).get("plank").hold_s == 45
        assert store.programme_on("xss", day).note == f"note {IMG}"
        assert f"felt ok {SVG}" in set(store.sessions("xss")["notes"])
