"""`backcare app` on a store of several patients, as a person starts it and opens it.

Without --patient it refuses to start (one line, exit 2); with --patient the page shows that
patient's name and never another patient's, neither in the page nor in any message the
kernel sends it."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
from pathlib import Path

import icalendar
import pytest

from backcare.servers import free_port
from backcare.store import open_store
from tests.support.servers import alive, make_store, process_tree, start_cli
from tests.support.stores import add_default_patient

pytestmark = pytest.mark.e2e

OTHERS = ("Sam Example", "Robin Stranger")


@pytest.fixture
def several(tmp_path) -> str:
    """Sam Example, Kim Own and Robin Stranger, each on the default programme."""
    url = make_store(tmp_path / "store.db")
    with open_store(url) as store:
        add_default_patient(store, "kim", "Kim Own", "Europe/Paris")
        add_default_patient(store, "robin", "Robin Stranger", "UTC")
    return url


def test_the_app_refuses_a_store_of_several_patients_without_one_named(several, tmp_path):
    with pytest.raises(RuntimeError, match="exited with 2") as info:
        start_cli(["app"], db_url=several, log=tmp_path / "app.log", default_port=free_port())
    errors = [line for line in str(info.value).splitlines()[1:] if line.strip()]
    assert errors == [
        "backcare: error: this store holds 3 patients and the app shows one person's checklist: "
        "start it with --patient ID (or BACKCARE_PATIENT=ID); `backcare patients` lists the ids"
    ]


def test_the_app_for_one_patient_never_shows_another(several, tmp_path, page, screenshots):
    cli = start_cli(
        ["app", "--patient", "kim"],
        db_url=several,
        log=tmp_path / "app.log",
        default_port=free_port(),
    )
    frames: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda f: frames.append(f if isinstance(f, str) else f.decode("utf-8", "replace")),
        ),
    )
    try:
        page.goto(cli.url)
        page.get_by_role("checkbox", name="Plank", exact=True).wait_for(timeout=180_000)
        page.locator(".backcare-patient", has_text="Kim Own").wait_for()
        page.screenshot(path=str(screenshots / "app-one-patient.png"))
        html = page.content()
        text = page.evaluate("() => document.body.innerText")
        assert "Kim Own" in text
        assert any("Kim Own" in f for f in frames)  # the widgets' state came over the socket
        for other in OTHERS:
            assert other not in html and other not in text
            assert not any(other in f for f in frames)
        assert page.locator("select option", has_text="Robin").count() == 0
        # the exercise drawing in "How to do it"
        plank = page.locator(".backcare-exercise").filter(
            has=page.get_by_role("checkbox", name="Plank", exact=True)
        )
        plank.get_by_text("How to do it").click()
        drawing = page.get_by_alt_text("Drawing: Plank")
        drawing.wait_for()
        assert drawing.evaluate("img => img.complete && img.naturalWidth") > 0
        # the reminder file: a button, then a download of Kim's programme in Kim's zone
        page.get_by_role("button", name="Reminders for my calendar").click()
        with page.expect_download() as download:
            page.get_by_text("Download reminders (.ics)").click()
        assert download.value.suggested_filename == "back-exercises.ics"
        cal = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
        (event,) = cal.walk("VEVENT")  # the default programme: every day
        assert event["rrule"] == {"FREQ": ["DAILY"]}
        assert event["dtstart"].params["TZID"] == "Europe/Paris"
        assert event.decoded("dtstart").time() == dt.time(18, 0)
        assert len(event.walk("VALARM")) == 1
    finally:
        tree = process_tree(cli.proc.pid)
        cli.proc.send_signal(signal.SIGTERM)
        cli.proc.wait(timeout=60)
        for pid in alive(tree):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
