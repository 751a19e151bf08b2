"""ActionButton: the write buttons' click waits, in the browser, for the form's pending values.

The kernel side is tested here without a kernel (as anywidget's own tests do); the browser
side's waiting is tested by running its ES module's functions in node on models that hold a
pending update, the way ipywidgets' throttle holds them. The whole path, arrow keys then
Record pain, is tests/e2e/test_today_phone.py's keyboard session."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import ipywidgets as W
import pytest

from backcare.ui.buttons import ActionButton

STATIC = Path(__file__).parents[2] / "backcare" / "ui" / "static" / "action_button.js"


def test_click_runs_the_handlers_with_the_button_and_remove_unregisters():
    b = ActionButton(description="Save")
    seen = []
    handler = seen.append
    b.on_click(handler)
    b.click()
    assert seen == [b]
    b.on_click(handler, remove=True)
    b.click()
    assert seen == [b]


def test_a_click_from_the_browser_runs_the_handlers_and_other_messages_do_not():
    b = ActionButton(description="Record pain")
    seen = []
    b.on_click(seen.append)
    b._handle_button_msg(b, {"event": "click"}, [])
    b._handle_button_msg(b, {"event": "hover"}, [])
    b._handle_button_msg(b, "click", [])
    assert seen == [b]


def test_a_disabled_button_does_nothing():
    b = ActionButton(description="Save", disabled=True)
    seen = []
    b.on_click(seen.append)
    b._handle_button_msg(b, {"event": "click"}, [])
    b.click()
    assert seen == []


def test_wait_for_names_the_forms_model_and_the_style_is_checked():
    form = W.VBox([W.Dropdown(options=[1, 2])])
    b = ActionButton(description="Save")
    b.wait_for(form)
    assert b.waits_for == form.model_id
    with pytest.raises(Exception, match="button_style"):
        ActionButton(button_style="loud")


def test_the_write_buttons_of_the_checklist_wait_for_the_whole_view(store):
    from backcare.ui.today import TodayView

    view = TodayView(store, patient_id=None)
    assert isinstance(view.save_button, ActionButton)
    assert view.save_button.waits_for == view.widget.model_id
    assert view.quick_button.waits_for == view.widget.model_id
    assert view.questionnaire.save_button.waits_for == view.questionnaire.widget.model_id


NODE_CHECK = r"""
const m = await import(process.argv[2]);
const model = (state, pending = 0, buffer = null) => ({
  _pending_msgs: pending, _msg_buffer: buffer, get: (k) => state[k],
});
const out = {};
// a form: a box holding a dropdown whose second change waits in the throttle's buffer
const select = model({}, 1, { index: 3 });
const row = model({ children: [select] });
const form = model({ children: [model({}), row] });
out.walked = m.modelsUnder(form).length;
out.settledBusy = m.settledModel(select);
out.settledNoThrottle = m.settledModel({ get: () => null });
let resolvedAt = null;
const t0 = Date.now();
const done = m.whenSettled(form, { pollMs: 5, giveUpMs: 5000 }).then((ok) => {
  resolvedAt = { ok, select: select._msg_buffer, pending: select._pending_msgs };
});
// the kernel answers the first update: the buffer goes out (pending again), then its answer
setTimeout(() => { select._msg_buffer = null; }, 60);
await new Promise((r) => setTimeout(r, 120));
out.beforeSecondAnswer = resolvedAt;
select._pending_msgs = 0;
await done;
out.after = resolvedAt;
out.waitedMs = Date.now() - t0;
out.gaveUp = await m.whenSettled(model({}, 1), { pollMs: 5, giveUpMs: 40 });
out.noForm = await m.whenSettled(null, { pollMs: 5, giveUpMs: 40 });
console.log(JSON.stringify(out));
"""


def test_the_browser_side_waits_for_every_model_under_the_form(tmp_path):
    node = shutil.which("node")
    assert node, "node is needed (make test installs it with the npm packages)"
    module = tmp_path / "action_button.mjs"  # .mjs: an ES module whatever package.json says
    module.write_text(STATIC.read_text())
    script = tmp_path / "check.mjs"
    script.write_text(NODE_CHECK)
    done = subprocess.run(
        [node, str(script), module.as_uri()], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["walked"] == 4  # form, its two children, and the dropdown inside the row
    assert out["settledBusy"] is False
    assert out["settledNoThrottle"] is True
    # still waiting while the second update is out and unanswered
    assert out["beforeSecondAnswer"] is None
    assert out["after"] == {"ok": True, "select": None, "pending": 0}
    assert out["waitedMs"] >= 120
    assert out["gaveUp"] is False  # a kernel that never answers: gives up, says so
    assert out["noForm"] is True
