"""The hold timer's signal (backcare.ui.hold_timer) without a kernel or a browser: the get-ready
count, the cues the kernel sends to the page, the mute switch's state, and the ES module that
ships in the package. The sounds, the vibration and the remembered mute switch are checked in
a real browser in tests/e2e/test_progress_browser.py."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest

from backcare.ui.hold_timer import GET_READY_S, HoldSignal
from backcare.ui.today import TodayView
from backcare.ui.widgets import hold_phases
from tests.support.loop import FakeLoop

NOW = dt.datetime(2026, 1, 7, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def loop() -> FakeLoop:
    return FakeLoop()


@pytest.fixture
def view(store, patient, loop) -> TodayView:
    return TodayView(store, now=lambda: NOW, scheduler=loop)


def test_a_hold_starts_with_a_three_second_get_ready_count():
    assert GET_READY_S == 3.0
    assert hold_phases(30, get_ready_s=3) == [("Get ready", 3.0), ("Hold", 30.0)]
    assert hold_phases(30) == [("Hold", 30.0)]  # without it, as before


def test_the_signal_sits_above_the_exercises_once(view):
    children = list(view.exercise_box.children)
    assert children.count(view.hold_signal) == 1
    assert children.index(view.hold_signal) == 1  # under the heading, above the first row
    assert view.hold_signal.muted is False


def test_the_kernel_cues_the_count_the_hold_and_the_end(view, loop):
    row = view.row("plank")
    row.timer_button.click()
    loop.advance(3)  # 3, 2, 1
    assert [c["cue"] for c in view.hold_signal.cues] == ["count", "count", "count", "go"]
    assert [c["say"] for c in view.hold_signal.cues] == [
        "Plank: get ready, 3",
        "2",
        "1",
        "Plank: hold, 30 seconds",
    ]
    loop.advance(30)
    assert row.done.value  # the hold is recorded as before: the box ticked
    assert view.hold_signal.cues[-1] == {"cue": "done", "say": "Plank: hold done, ticked."}
    assert len(view.hold_signal.cues) == 5  # the hold's own seconds make no sound


def test_sides_switch_with_a_pause_cue_and_a_stop_is_said(view, loop):
    row = view.row("knee-to-chest")  # 30 s each side, 5 s to switch
    row.timer_button.click()
    loop.advance(3 + 30)
    assert view.hold_signal.cues[-1] == {
        "cue": "pause",
        "say": "Knee to Chest Stretch: switch sides, get ready, 5 seconds",
    }
    row.timer_button.click()  # stop
    assert view.hold_signal.cues[-1] == {"cue": "", "say": "Knee to Chest Stretch: timer stopped."}
    assert not row.done.value


def test_the_es_module_ships_in_the_package_and_fetches_nothing():
    js = (resources.files("backcare.ui") / "static" / "hold_signal.js").read_text()
    assert HoldSignal._esm == js
    assert "http" not in js and "import " not in js  # nothing from a CDN, no imports at all
    assert "localStorage" in js and "backcare.holdTimer.muted" in js
    assert "navigator.vibrate" in js and "AudioContext" in js
    assert 'setAttribute("aria-live", "polite")' in js and "aria-pressed" in js
    assert 'createElement("button")' in js  # a real button, keyboard operable
