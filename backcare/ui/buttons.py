"""The app's own buttons: ActionButton for writes, DisclosureButton to show or hide a panel.

ActionButton: a button whose click reaches the kernel after what the person typed before it.

ipywidgets throttles state updates per widget (one in flight; later changes wait in the
browser for the kernel's answer), while a Button's click is sent at once. On a busy kernel,
"pain 3 by four arrow-key presses, then Record pain" arrived as pain 0, click, pain 3, and
stored 0. ActionButton is the write buttons' replacement (Save, Record pain, Save answers,
the physiotherapist's saves): the browser sends its click only once every widget under
``waits_for`` (the form, walked through its children as they are at the click) has sent
everything, so the handler reads what the person sees. The rest of its surface is
ipywidgets.Button's: ``description``, ``icon``, ``button_style``, ``tooltip``, ``disabled``,
``on_click`` and ``click()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import ipywidgets as W
import traitlets

from backcare.ui._static import static_text

__all__ = ["ActionButton", "DisclosureButton"]


class ActionButton(anywidget.AnyWidget):
    """A write button: clicks wait, in the browser, for the form's pending values."""

    _esm = static_text("action_button.js")
    description = traitlets.Unicode("").tag(sync=True)
    icon = traitlets.Unicode("").tag(sync=True)
    button_style = traitlets.Enum(
        ["", "primary", "success", "info", "warning", "danger"], default_value=""
    ).tag(sync=True)
    tooltip = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    waits_for = traitlets.Unicode("").tag(sync=True)  # model id of the form's root widget

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._click_handlers = W.CallbackDispatcher()
        self.on_msg(self._handle_button_msg)

    def wait_for(self, form: W.Widget) -> None:
        """Make clicks wait until every widget under form has sent its pending values."""
        self.waits_for = form.model_id

    def on_click(self, callback: Callable[[ActionButton], Any], remove: bool = False) -> None:
        """Register (or, with remove=True, unregister) callback(button) for clicks."""
        self._click_handlers.register_callback(callback, remove=remove)

    def click(self) -> None:
        """Run the click handlers, as a press in the browser does (nothing while disabled)."""
        if not self.disabled:
            self._click_handlers(self)

    def _handle_button_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "click":
            self.click()


class DisclosureButton(anywidget.AnyWidget):
    """A real <button> that shows (value True) or hides a panel, with aria-expanded saying
    which, and a chevron pointing right (closed) or down (open). ipywidgets' ToggleButton
    tells a screen reader nothing of its state."""

    _esm = static_text("disclosure_button.js")
    value = traitlets.Bool(False).tag(sync=True)
    description = traitlets.Unicode("").tag(sync=True)
    tooltip = traitlets.Unicode("").tag(sync=True)
