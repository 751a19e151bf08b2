"""The app on a phone-sized screen (390 x 844): My progress, the hold timer's get-ready count,
sound and mute switch, and the reminders file.

The store holds Sam's last three weeks, saved through Store.save_session as the checklist
saves them (real days, in Sam's time zone). Screenshots go to tests/e2e/screenshots/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import icalendar
import pytest
from playwright.sync_api import expect

from backcare.store import open_store

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

# records what the page asks of the speaker and the vibration motor (the real ones are left
# working underneath)
RECORD_SIGNALS = """
window.__tones = 0;
window.__vibrations = [];
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__tones += 1;
  return start.apply(this, args);
};
navigator.vibrate = (pattern) => { window.__vibrations.push(pattern); return true; };
"""


@pytest.fixture
def history(e2e_store) -> dt.date:
    """Sam's last 20 days, returning Sam's today: from last Monday on, every exercise every day
    but Plank alone on last Wednesday (49 of 56 = 88 %: a week at 80 % or more); before that
    no session every fifth day and Plank alone every third; pain before and after falling."""
    with open_store(e2e_store) as store:
        now = dt.datetime.now(dt.UTC)
        today = now.astimezone(store.patient_timezone("sam")).date()
        last_monday = today - dt.timedelta(days=today.weekday() + 7)
        ids = store.programme_on("sam", today).exercise_ids()
        for back in range(20, 0, -1):
            day = today - dt.timedelta(days=back)
            if day >= last_monday:
                done = ["plank"] if day == last_monday + dt.timedelta(days=2) else ids
            elif back % 5 == 0:
                continue  # a day without a session
            else:
                done = ["plank"] if back % 3 == 0 else ids
            pain = 3 + back * 3 // 20
            store.save_session(
                "sam",
                [{"exercise_id": e, "done": e in done} for e in ids],
                day=day,
                pain_before=pain,
                pain_after=max(0, pain - 1),
            )
    return today


def open_app(page, server) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{server.base}/?token={server.token}")
    page.get_by_role("checkbox", name="Plank", exact=True).wait_for(timeout=180_000)


def overflow(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_my_progress_on_a_phone_shows_the_summary_the_weeks_and_the_pain_chart(
    history, app_server, page, screenshots
):
    open_app(page, app_server)
    switch = page.get_by_role("button", name="My progress", exact=True)
    expect(switch).to_have_attribute("aria-pressed", "false")
    switch.focus()
    page.keyboard.press("Enter")  # keyboard operable
    expect(switch).to_have_attribute("aria-pressed", "true")
    progress = page.locator(".backcare-progress")
    progress.get_by_role("heading", name="My progress").wait_for(timeout=60_000)
    summary = progress.locator(".backcare-summary")
    expect(summary).to_contain_text("Exercises were ticked off", timeout=120_000)
    # this week at a glance: the last 7 days, the sessions against the prescription, the run
    strip = progress.locator(".backcare-week-strip li")
    expect(strip).to_have_count(7)
    assert strip.last.get_attribute("data-status") in ("open", "done", "partly")
    expect(progress.locator(".backcare-glance-text")).to_contain_text("sessions done")
    expect(progress.locator(".backcare-glance-text")).to_contain_text(
        "1 week in a row with 80 % or more of your prescribed exercises done; "
        "this week counts once it is complete."
    )
    # the recent weeks, Monday to Sunday, rows of 7
    rows = progress.locator(".backcare-week-grid tbody tr")
    assert rows.count() >= 3
    assert rows.first.locator("td").count() == 7
    # yesterday had a session with every exercise
    yesterday = history - dt.timedelta(days=1)
    cell = progress.locator(f'.backcare-week-grid td[title^="{yesterday:%A} {yesterday.day} "]')
    assert cell.get_attribute("data-status") == "done"
    # the pain chart, drawn by plotly in the page
    chart = progress.locator(".js-plotly-plot")
    chart.wait_for(timeout=60_000)
    box = chart.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    page.wait_for_timeout(500)  # plotly's resize after the first draw
    assert overflow(page) <= PHONE["width"], overflow(page)
    page.screenshot(path=str(screenshots / "app-my-progress-phone.png"))
    # the whole view: the page grown to fit it (Voila may scroll an inner panel)
    page.set_viewport_size({"width": PHONE["width"], "height": 3000})
    page.wait_for_timeout(300)
    assert overflow(page) <= PHONE["width"], overflow(page)
    progress.screenshot(path=str(screenshots / "app-my-progress-phone-whole.png"))
    page.set_viewport_size(PHONE)
    # and back to the checklist
    page.get_by_role("button", name="Today", exact=True).click()
    expect(switch).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_role("checkbox", name="Plank", exact=True)).to_be_visible()
    expect(progress).to_be_hidden()


def test_the_hold_timer_counts_in_sounds_and_remembers_the_mute_switch(
    app_server, page, screenshots
):
    page.add_init_script(RECORD_SIGNALS)
    open_app(page, app_server)
    plank = page.locator(".backcare-exercise").filter(
        has=page.get_by_role("checkbox", name="Plank", exact=True)
    )
    hold = plank.locator(".backcare-input-hold-s input")
    hold.fill("2")
    hold.press("Tab")
    mute = page.get_by_role("button", name="Mute timer sound")
    expect(mute).to_have_attribute("aria-pressed", "false")
    start = plank.get_by_role("button", name="Start 2 s hold")
    start.focus()
    page.keyboard.press("Enter")  # keyboard operable
    expect(plank.locator(".backcare-timer")).to_contain_text("Get ready")
    live = page.locator(".backcare-hold-live[aria-live=polite]")
    expect(live).to_contain_text("Plank: get ready, 3")
    page.screenshot(path=str(screenshots / "app-hold-get-ready-phone.png"))
    expect(page.get_by_role("checkbox", name="Plank", exact=True)).to_be_checked(timeout=30_000)
    expect(live).to_contain_text("Plank: hold done, ticked.")
    tones = page.evaluate("() => window.__tones")
    vibrations = page.evaluate("() => window.__vibrations")
    # 3 counts + the hold's start + 3 rising tones at the end (at least: the kernel may be
    # late for a tick, never early)
    assert tones >= 3, tones
    assert [200, 100, 200] in vibrations, vibrations  # the end, on a device that vibrates

    mute.focus()
    page.keyboard.press("Space")  # a real button: Space presses it
    expect(mute).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".backcare-sound-state")).to_have_text("Sound off")
    page.reload()
    page.get_by_role("checkbox", name="Plank", exact=True).wait_for(timeout=180_000)
    mute = page.get_by_role("button", name="Mute timer sound")
    expect(mute).to_have_attribute("aria-pressed", "true")  # remembered across the reload
    plank = page.locator(".backcare-exercise").filter(
        has=page.get_by_role("checkbox", name="Plank", exact=True)
    )
    hold = plank.locator(".backcare-input-hold-s input")
    hold.fill("1")
    hold.press("Tab")
    plank.get_by_role("button", name="Start 1 s hold").click()
    expect(page.get_by_role("checkbox", name="Plank", exact=True)).to_be_checked(timeout=30_000)
    expect(page.locator(".backcare-hold-live")).to_contain_text("hold done")
    assert page.evaluate("() => window.__tones") == 0  # muted: no sound
    assert [200, 100, 200] in page.evaluate("() => window.__vibrations")  # still vibrates


def test_the_app_gives_the_reminders_file_on_a_phone(app_server, page):
    open_app(page, app_server)
    page.get_by_role("button", name="Reminders for my calendar").click()
    with page.expect_download() as download:
        page.get_by_text("Download reminders (.ics)").click()
    assert download.value.suggested_filename == "back-exercises.ics"
    cal = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
    (event,) = cal.walk("VEVENT")  # the default programme: every exercise every day
    assert event["rrule"] == {"FREQ": ["DAILY"]}
    assert event["dtstart"].params["TZID"] == "Europe/London"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]
    (alarm,) = event.walk("VALARM")
    assert alarm["action"] == "DISPLAY"
