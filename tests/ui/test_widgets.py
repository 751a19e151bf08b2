"""backcare.ui.widgets without a kernel: the patient picker, the pain input and the hold timer,
driven like a user would."""

from __future__ import annotations

import ipywidgets as W
import pytest

from backcare.errors import ValidationError
from backcare.ui.buttons import DisclosureButton
from backcare.ui.widgets import (
    NOT_RECORDED,
    Disclosure,
    HoldTimer,
    PainInput,
    PatientPicker,
    hold_phases,
    patient_names,
)
from tests.support.hostile import IMG
from tests.support.loop import FakeLoop


def test_the_picker_offers_name_and_id_and_chooses_the_first_patient():
    picker = PatientPicker({"p1": "Ann Example", "p2": ""})
    assert picker.options == (("Ann Example (p1)", "p1"), ("p2", "p2"))
    assert picker.value == "p1" and picker.name() == "Ann Example" and picker.name("p2") == ""
    picker.value = "p2"
    assert picker.name() == ""


def test_with_a_prompt_no_patient_is_chosen_until_the_user_chooses():
    picker = PatientPicker({"p1": "Ann"}, prompt="Choose a patient")
    assert picker.options[0] == ("Choose a patient", None) and picker.value is None
    seen = []
    picker.observe(lambda change: seen.append(change["new"]), "value")
    picker.value = "p1"
    assert seen == ["p1"]


def test_a_patient_asked_for_must_be_offered():
    assert PatientPicker({"p1": "", "p2": ""}, value="p2").value == "p2"
    with pytest.raises(ValidationError, match="patient_id: 'nobody'"):
        PatientPicker({"p1": ""}, value="nobody")


def test_an_empty_picker_chooses_nobody():
    assert PatientPicker().value is None and PatientPicker().options == ()


def test_names_are_offered_as_text(store):
    """Option labels are plain text in ipywidgets, so the name is offered as typed (never as
    HTML)."""
    store.add_patient("xss", IMG)
    store.add_patient("a1", "Ann")
    assert patient_names(store) == {"a1": "Ann", "xss": IMG}
    picker = PatientPicker()
    picker.load(store, "xss")
    assert (
        picker.value == "xss"
        and ("Ann (a1)", "a1") in picker.options
        and (f"{IMG} (xss)", "xss") in picker.options
    )


def test_an_untouched_pain_input_records_nothing_and_a_chosen_one_its_score():
    pain = PainInput("Pain now")
    labels = [label for label, _ in pain.score.options]
    # "not recorded" once, then the 0-10 scale with its two ends named
    assert labels[0] == "not recorded" and labels.count("not recorded") == 1
    assert labels[1:] == ["0 (no pain)", *map(str, range(1, 10)), "10 (worst imaginable)"]
    assert pain.value is None and pain.score.label == "not recorded"
    assert pain.score.description == "Pain now"  # the select's <label>, read by screen readers
    pain.score.value = 4
    assert pain.value == 4 and pain.score.label == "4"
    pain.score.value = NOT_RECORDED
    assert pain.value is None
    pain.set(0)  # no pain is a score, not "not recorded"
    assert pain.value == 0 and pain.score.label == "0 (no pain)"
    pain.set(None)
    assert pain.value is None


def test_a_disclosure_opens_and_closes_its_panel_like_a_one_panel_accordion():
    inside = W.HTML("inside")
    box = Disclosure(inside, "Quick pain entry")
    # a real <button> (Tab, then Space or Enter) with aria-expanded (tests/e2e: the keyboard)
    assert isinstance(box.toggle, DisclosureButton)
    assert box.selected_index is None and box.panel.layout.display == "none"
    assert box.panel.children == ()  # not drawn by the browser before it is first opened
    assert box.get_title(0) == "Quick pain entry" and box.titles == ("Quick pain entry",)
    box.toggle.value = True  # what pressing the button does
    assert box.selected_index == 0 and box.panel.layout.display is None
    assert box.panel.children == (inside,) and box.toggle.tooltip == "Hide"
    box.selected_index = None
    assert not box.toggle.value and box.panel.layout.display == "none"
    assert box.panel.children == (inside,)  # kept once drawn: what was typed in it stays
    box.set_title(0, "Answer this week's questions (due: RMDQ)")
    assert box.toggle.description == "Answer this week's questions (due: RMDQ)"


def test_a_disclosure_given_a_function_builds_its_content_only_when_first_opened():
    built = []

    def build():
        built.append(W.HTML("built"))
        return built[-1]

    box = Disclosure(build, "Answer this week's questions")
    assert built == [] and box.panel.children == ()
    box.toggle.value = True
    assert len(built) == 1 and box.panel.children == (built[0],) and box.child is built[0]
    box.toggle.value = False
    box.toggle.value = True
    assert len(built) == 1  # built once: what was typed in it stays


def test_hold_phases():
    assert hold_phases(30) == [("Hold", 30.0)]
    assert [n for n, _ in hold_phases(10, sets=2, switch_s=3)] == [
        "Hold, set 1 of 2",
        "Rest, get ready",
        "Hold, set 2 of 2",
    ]
    label = W.HTML()
    done = []
    loop = FakeLoop()
    t = HoldTimer(label, lambda: done.append(1), scheduler=loop, tick=1.0)
    t.start([("Hold", 2.5)])
    loop.advance(1)
    assert "2 s" in label.value  # 1.5 s left, shown rounded up
    loop.advance(1.5)
    assert done == [1]
