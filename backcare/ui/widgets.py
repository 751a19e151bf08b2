"""The small widgets every view shares: PatientPicker, PainInput, HoldTimer and Disclosure.

Each one is plain ipywidgets, built and driven without a kernel (tests set values and
click buttons on them directly); the timer runs on any scheduler with ``time`` and
``call_later`` (an asyncio loop in the kernel, a fake clock in tests).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import ipywidgets as W
import traitlets

from backcare.domain.session import PAIN_RANGE
from backcare.errors import ValidationError
from backcare.present.html import esc, message_html

if TYPE_CHECKING:
    from backcare.store import Store

__all__ = [
    "NOT_RECORDED",
    "Disclosure",
    "HoldTimer",
    "PainInput",
    "PatientPicker",
    "Scheduler",
    "callback_boundary",
    "hold_phases",
    "kernel_loop",
    "one_line",
    "pain_options",
    "patient_label",
    "patient_names",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


# ---- errors ----------------------------------------------------------------------------------
def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, at most 300 characters."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return first[:300]


def callback_boundary(
    action: Callable[[], T], target: W.HTML | Callable[[str], None], title: str
) -> T | None:
    """action(), or None after showing an error no view expected, in one line, in target.

    The views' one catch-all. Each view handles what the store can raise (STORE_ERRORS) where
    it happens, in its own words; this only wraps what buttons and pickers start, so that a
    bug ends with a message on the page instead of a traceback in the kernel's log (a Voila
    page would otherwise show nothing). The traceback is logged. target: an HTML widget for
    a message box, or a function given the message as plain text."""
    try:
        return action()
    except Exception as exc:  # the one catch-all: see the docstring
        log.error("%s", title, exc_info=True)
        lines = [
            f"Something unexpected went wrong ({type(exc).__name__}: {one_line(exc)}).",
            "Reload the page to see what is stored.",
        ]
        if isinstance(target, W.HTML):
            target.value = message_html("error", title, lines)
        else:
            target(f"{title}: {' '.join(lines)}")
        return None


# ---- the patient picker --------------------------------------------------------------------
def patient_names(store: Store) -> dict[str, str]:
    """Every patient of the store as {patient_id: name} in id order: what a PatientPicker offers."""
    pats = store.patients()
    return {str(p): str(n) for p, n in zip(pats["patient_id"], pats["name"], strict=True)}


def patient_label(patient_id: str, name: str = "") -> str:
    """How a patient is offered: 'name (id)', or the id alone (plain text: ipywidgets never
    renders option labels as HTML, so names need no escaping here)."""
    return f"{name} ({patient_id})" if name else patient_id


class PatientPicker(W.Dropdown):
    """A dropdown of patients; ``value`` is the chosen patient id (None until one is chosen).

    names: {patient_id: name}, e.g. from patient_names(store). prompt: a first option such as
    'Choose a patient' that stands for no patient; without it the first patient is chosen
    unless value names one. Layout and style keywords go to the Dropdown."""

    def __init__(
        self,
        names: Mapping[str, str] | None = None,
        *,
        value: str | None = None,
        prompt: str | None = None,
        description: str = "Patient",
        **kwargs: Any,
    ) -> None:
        self.prompt = prompt
        self.names: dict[str, str] = {}
        kwargs.setdefault("style", {"description_width": "60px"})
        kwargs.setdefault("layout", W.Layout(width="380px"))
        super().__init__(description=description, options=self._options({}), value=None, **kwargs)
        self.add_class("backcare-patient-picker")
        self.set_names(names or {}, value)

    def _options(self, names: Mapping[str, str]) -> list[tuple[str, str | None]]:
        head: list[tuple[str, str | None]] = [(self.prompt, None)] if self.prompt else []
        return head + [(patient_label(p, n), p) for p, n in names.items()]

    def set_names(self, names: Mapping[str, str], value: str | None = None) -> None:
        """Offer these patients; choose value (ValidationError if it is not one of them), else the
        prompt, else the first patient."""
        if value is not None and value not in names:
            raise ValidationError("patient_id", value, "a patient in the store")
        self.names = {str(p): str(n) for p, n in names.items()}
        if value is None and not self.prompt:
            value = next(iter(self.names), None)
        self.options = self._options(self.names)
        self.value = value

    def load(self, store: Store, value: str | None = None) -> None:
        """Offer the store's patients (see set_names); the store's own errors pass through."""
        self.set_names(patient_names(store), value)

    def name(self, patient_id: str | None = None) -> str:
        """The name of patient_id (default: the chosen patient); '' if it has none."""
        pid = self.value if patient_id is None else patient_id
        return self.names.get(pid, "") if pid is not None else ""


# ---- the hold timer ----------------------------------------------------------------------
@runtime_checkable
class Scheduler(Protocol):
    """What the timer needs from an event loop: asyncio loops have both methods."""

    def time(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], Any]) -> Any: ...


def kernel_loop() -> asyncio.AbstractEventLoop:
    """The asyncio loop the kernel runs on (the running one, else the thread's current loop)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop()


class HoldTimer:
    """Counts holds down on an event loop (never sleeping) and calls on_done after the last.

    A hold is a list of phases (label, seconds). The timer reschedules itself with
    scheduler.call_later at most every `tick` seconds and shows what is left in `label`.
    on_cue(event, phase, seconds), if given, hears each event: 'phase' (a phase starts),
    'tick' (time passed in it), 'done' (the last phase ended), 'stopped' (the user stopped
    it); ui.hold_timer.HoldSignal turns them into sounds and spoken counts."""

    def __init__(
        self,
        label: W.HTML,
        on_done: Callable[[], None],
        *,
        scheduler: Scheduler | Callable[[], Scheduler] | None = None,
        tick: float = 1.0,
        on_change: Callable[[bool], None] | None = None,
        on_cue: Callable[[str, str, int], None] | None = None,
    ) -> None:
        self.label = label
        self.on_done = on_done
        self.on_change = on_change
        self.on_cue = on_cue
        self.tick = tick
        self._scheduler = scheduler
        self._phases: list[tuple[str, float]] = []
        self._deadline = 0.0
        self._handle: Any = None
        self._loop: Scheduler | None = None

    @property
    def running(self) -> bool:
        """True while a countdown is in progress."""
        return self._handle is not None

    def _resolve(self) -> Scheduler:
        s = self._scheduler
        if s is None:
            return kernel_loop()
        return s if isinstance(s, Scheduler) else s()

    def start(self, phases: Sequence[tuple[str, float]]) -> None:
        """Start counting down phases (cancelling any countdown in progress)."""
        self.stop(quiet=True)
        self._phases = [(name, float(secs)) for name, secs in phases if secs > 0]
        if not self._phases:
            return
        self._loop = self._resolve()
        self._next_phase()
        if self.on_change:
            self.on_change(True)

    def stop(self, *, quiet: bool = False) -> None:
        """Cancel the countdown; the box is not ticked."""
        was_running = self.running
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._phases = []
        if was_running and not quiet:
            self.label.value = '<span class="backcare-timer">Timer stopped.</span>'
            self._cue("stopped", "", 0)
        if was_running and self.on_change:
            self.on_change(False)

    def _clock(self) -> Scheduler:
        """The loop of the countdown in progress (chosen by start)."""
        if self._loop is None:
            raise RuntimeError("the hold timer was not started")
        return self._loop

    def _cue(self, event: str, phase: str, remaining: float) -> None:
        if self.on_cue is not None:
            self.on_cue(event, phase, max(0, math.ceil(remaining - 1e-9)))

    def _next_phase(self) -> None:
        name, secs = self._phases[0]
        self._deadline = self._clock().time() + secs
        self._show(name, secs)
        self._cue("phase", name, secs)
        self._schedule(secs)

    def _schedule(self, remaining: float) -> None:
        self._handle = self._clock().call_later(min(self.tick, remaining), self._on_tick)

    def _show(self, name: str, remaining: float) -> None:
        secs = max(0, math.ceil(remaining - 1e-9))
        self.label.value = f'<span class="backcare-timer">{esc(name)}: <b>{secs} s</b></span>'

    def _on_tick(self) -> None:
        self._handle = None
        if not self._phases:
            return
        remaining = self._deadline - self._clock().time()
        if remaining > 1e-6:
            self._show(self._phases[0][0], remaining)
            self._cue("tick", self._phases[0][0], remaining)
            self._schedule(remaining)
            return
        self._phases.pop(0)
        if self._phases:
            self._next_phase()
            return
        self.label.value = '<span class="backcare-timer">Hold done: ticked.</span>'
        if self.on_change:
            self.on_change(False)
        self._cue("done", "", 0)
        self.on_done()


GET_READY = "Get ready"  # the first phase's name when a hold starts with a get-ready count


def hold_phases(
    seconds: int,
    *,
    sets: int = 1,
    each_side: bool = False,
    switch_s: float = 5.0,
    get_ready_s: float = 0.0,
) -> list[tuple[str, float]]:
    """The countdown phases of a hold: a get-ready count (get_ready_s > 0), then each set, each
    side, with a short switch in between."""
    sides = ("first side", "second side") if each_side else ("",)
    holds = []
    for s in range(1, sets + 1):
        for side in sides:
            parts = ([f"set {s} of {sets}"] if sets > 1 else []) + ([side] if side else [])
            holds.append("Hold, " + ", ".join(parts) if parts else "Hold")
    phases: list[tuple[str, float]] = [(GET_READY, float(get_ready_s))] if get_ready_s > 0 else []
    for i, name in enumerate(holds):
        if i and switch_s > 0:
            phases.append(("Switch sides, get ready" if each_side else "Rest, get ready", switch_s))
        phases.append((name, float(seconds)))
    return phases


# ---- pain input --------------------------------------------------------------------------
NOT_RECORDED = -1  # the pain choice that stands for no score


def pain_options() -> list[tuple[str, int]]:
    """What a PainInput offers: 'not recorded' first, then 0 to 10 with the ends named."""
    low, high = PAIN_RANGE
    names = {low: f"{low} (no pain)", high: f"{high} (worst imaginable)"}
    return [("not recorded", NOT_RECORDED)] + [
        (names.get(n, str(n)), n) for n in range(low, high + 1)
    ]


class PainInput:
    """A 0-10 pain score chosen from a list whose first choice, 'not recorded', stays until the
    user picks a score: an untouched input is never stored as a score.

    A native <select> with a real <label>: reachable with Tab, changed with the arrow keys,
    read by screen readers as 'Pain before, not recorded', a phone's own picker on a phone."""

    def __init__(self, label: str) -> None:
        self.score = W.Dropdown(
            options=pain_options(),
            value=NOT_RECORDED,
            description=label,
            style={"description_width": "110px"},
            layout=W.Layout(width="360px", max_width="100%"),
        )
        self.widget = W.HBox([self.score], layout=W.Layout(align_items="center", max_width="100%"))
        self.widget.add_class("backcare-pain")

    @property
    def value(self) -> int | None:
        """The score, or None while 'not recorded' is chosen."""
        v = self.score.value
        return None if v is None or v == NOT_RECORDED else int(v)

    def set(self, value: int | None) -> None:
        """Show a score (None: not recorded)."""
        self.score.value = NOT_RECORDED if value is None else int(value)


# ---- a disclosure ------------------------------------------------------------------------
class Disclosure(W.VBox):
    """A button that shows or hides one panel: a keyboard-reachable one-panel Accordion.

    ipywidgets' Accordion headers cannot be focused; this is a real <button> (Tab, then Space
    or Enter). Like an Accordion, ``selected_index`` is 0 while open and None while closed,
    and ``set_title(0, text)`` / ``get_title(0)`` name it. The panel's content joins the page
    when it is first opened: the browser draws none of its widgets before that (the app's
    first screen draws fewer), and when ``child`` is a function, it is called then to build
    the content, so the page does not even load its widgets until they are wanted."""

    selected_index = traitlets.Int(None, allow_none=True)

    def __init__(self, child: W.Widget | Callable[[], W.Widget], title: str, **kwargs: Any) -> None:
        self._title = title
        from backcare.ui.buttons import DisclosureButton  # anywidget: loaded when first used

        self.toggle = DisclosureButton(
            value=False,
            description=title,
            tooltip="Show",
            layout=W.Layout(width="auto", max_width="100%"),
        )
        self._child = child
        self.panel = W.VBox([], layout=W.Layout(display="none", padding="4px 0 4px 12px"))
        super().__init__([self.toggle, self.panel], **kwargs)
        self.add_class("backcare-disclosure")
        self.toggle.observe(self._toggled, "value")
        self.observe(self._selected, "selected_index")

    @property
    def child(self) -> W.Widget:
        """The panel's content (built now, when it was given as a function)."""
        if not isinstance(self._child, W.Widget):
            self._child = self._child()
        return self._child

    @property
    def titles(self) -> tuple[str]:
        """The one title, as Accordion.titles would give it."""
        return (self._title,)

    def set_title(self, index: int, title: str) -> None:
        """Name the panel (index must be 0: there is one)."""
        if index != 0:
            raise IndexError(index)
        self._title = title
        self.toggle.description = title

    def get_title(self, index: int) -> str:
        """The panel's name (index must be 0)."""
        if index != 0:
            raise IndexError(index)
        return self._title

    def _toggled(self, change: dict) -> None:
        self.selected_index = 0 if change["new"] else None

    def _selected(self, change: dict) -> None:
        shown = change["new"] is not None
        if shown and not self.panel.children:
            self.panel.children = (self.child,)
        self.toggle.value = shown
        self.toggle.tooltip = "Hide" if shown else "Show"
        self.panel.layout.display = None if shown else "none"
