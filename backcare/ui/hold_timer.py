"""The hold timer's signal in the browser: a sound, a vibration and spoken counts, with a mute
switch.

The kernel keeps counting holds down (ui.widgets.HoldTimer: the same timer, the same ticked
box at the end); ``HoldSignal`` is the small front-end part it lacked, an anywidget whose ES
module ships in the package (backcare/ui/static/hold_signal.js, never fetched from a CDN):

- a 3-second get-ready count (GET_READY_S) before the first hold, a short tone each second;
- a tone when a hold starts, another when a rest or side switch starts, three rising tones at
  the end, made with Web Audio (no sound file); a vibration where the device has one
  (navigator.vibrate) when a hold starts and at the end;
- the count announced to screen readers in a live region (role=status, aria-live=polite)
  that stays on the page (a replaced element is not announced reliably);
- a real <button> "Mute timer sound" (aria-pressed), keyboard operable, remembered in the
  browser's localStorage (key ``backcare.holdTimer.muted``) for the app's address: the same
  browser on the same host and port remembers it. Muting silences the sounds only.

The kernel sends each cue as a custom message ({"cue", "say"}); ``cues`` keeps the last
ones sent, which is what tests without a browser read.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

from backcare.ui._static import static_text
from backcare.ui.widgets import GET_READY

__all__ = ["GET_READY", "GET_READY_S", "HoldSignal"]

GET_READY_S = 3.0  # seconds to get into position before the first hold
KEEP_CUES = 50


class HoldSignal(anywidget.AnyWidget):
    """One per checklist: plays the hold timers' cues and holds the mute switch."""

    _esm = static_text("hold_signal.js")
    _css = static_text("hold_signal.css")
    muted = traitlets.Bool(False).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cues: list[dict[str, str]] = []
        self.add_class("backcare-hold-signal-widget")

    def _cue_out(self, cue: str, say: str) -> None:
        msg = {"cue": cue, "say": say}
        self.cues = [*self.cues[-(KEEP_CUES - 1) :], msg]
        self.send(msg)

    def on_timer(self, exercise: str, event: str, phase: str, seconds: int) -> None:
        """A HoldTimer event (on_cue) for exercise, as a sound and words: 'phase' (a phase
        starts), 'tick' (a second passed), 'done', 'stopped'."""
        counting = phase.startswith(GET_READY)
        if event == "phase":
            if counting:
                self._cue_out("count", f"{exercise}: get ready, {seconds}")
            elif phase.startswith("Hold"):
                self._cue_out("go", f"{exercise}: {phase.lower()}, {seconds} seconds")
            else:
                self._cue_out("pause", f"{exercise}: {phase.lower()}, {seconds} seconds")
        elif event == "tick" and counting:
            self._cue_out("count", str(seconds))
        elif event == "done":
            self._cue_out("done", f"{exercise}: hold done, ticked.")
        elif event == "stopped":
            self._cue_out("", f"{exercise}: timer stopped.")
