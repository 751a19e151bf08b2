"""Today's checklist (the `backcare app` Voila page) on a phone, for axe-core and by keyboard.

- On a phone (390 x 844): nothing wider than the screen, no label or button cut with '...',
  every target at least 24 x 24 px (WCAG 2.2 target size, minimum), also with the panels open.
- axe-core (npm, node_modules/axe-core, installed by `make`'s npm ci) finds no serious or
  critical violation: on the checklist, with a warning sign ticked, after saving.
- Keyboard only (Tab, Shift+Tab, Space, Enter, arrows): tick an exercise, run the hold timer,
  open a 'How to do it', choose pain, Save, record a quick pain score; then the store holds it.
  Every control reached has a name and a visible focus ring.

Screenshots at 390 x 844 go to tests/e2e/screenshots/ (git-ignored)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backcare.store import open_store
from tests.e2e.test_today_browser import snap
from tests.support import ROOT, require

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# what a test reads off the focused element: its tag, kind, name, and the focus ring drawn
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const byFor = e.id ? document.querySelector(`label[for="${e.id}"]`) : null;
  const label = e.getAttribute('aria-label') || (byFor && byFor.textContent) ||
    (e.closest('label') && e.closest('label').textContent) || e.textContent || '';
  const s = getComputedStyle(e);
  // a date input's calendar button lives in its shadow tree: Chromium draws that ring itself
  const inner = e.type === 'date' && !e.matches(':focus');
  return {tag: e.tagName.toLowerCase(), type: e.type || '', name: label.trim(),
          checked: !!e.checked, value: e.value === undefined ? null : String(e.value),
          ring: inner || (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2),
          outline: `${s.outlineStyle} ${s.outlineWidth} ${e.matches(':focus-visible')}`,
          label: e.tagName === 'SELECT' ? e.options[e.selectedIndex].text : null};
}"""

LOADED = """() => {
  const spinner = document.getElementById('loading');
  return !spinner || getComputedStyle(spinner).display === 'none';
}"""

OVERFLOW = """(width) => [...document.querySelectorAll('body *')].filter(e => {
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && (r.right > width + 0.5 || r.left < -0.5);
}).map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().left)}`
              + `..${Math.round(e.getBoundingClientRect().right)}`)"""

CUT = """() => [...document.querySelectorAll('body *')].filter(e => {
  const s = getComputedStyle(e);
  return s.textOverflow === 'ellipsis' && e.getClientRects().length > 0
    && s.visibility !== 'hidden' && e.scrollWidth > e.clientWidth;
}).map(e => `${e.tagName}.${e.className}: ${e.textContent.trim().slice(0, 60)}`)"""

SMALL = """() => [...document.querySelectorAll(
    'button, input, select, summary, [role=tab], [role=slider], [role=checkbox]')]
  .filter(e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')
  .map(e => [e.tagName + ' ' + (e.type || '') + ' ' + (e.textContent || e.value || '').trim()
             .slice(0, 40), e.getBoundingClientRect()])
  .filter(([_, r]) => r.width < 24 || r.height < 24)
  .map(([n, r]) => `${n}: ${Math.round(r.width)} x ${Math.round(r.height)}`)"""


def open_app(page, server):
    page.set_viewport_size(PHONE)
    page.goto(f"{server.base}/?token={server.token}")
    page.get_by_role("checkbox", name="Plank", exact=True).wait_for(timeout=120_000)
    page.locator(".backcare-today h2.backcare-day").wait_for()
    page.wait_for_function(LOADED)  # Voila has run every cell: the page stops changing


def assert_fits_a_phone(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(OVERFLOW, PHONE["width"]) == []  # no element wider than the screen
    assert page.evaluate(CUT) == []  # no label or button ends in '...'
    assert page.evaluate(SMALL) == []  # every target at least 24 x 24 px


def axe_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    if not AXE.is_file():
        require("BACKCARE_REQUIRE_E2E", f"axe-core is not installed ({AXE}): run make")
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {n['target']} {n['html'][:120]}"
        for v in found
        if v["impact"] in ("serious", "critical")
        for n in v["nodes"]
    ]


def open_panels(page) -> None:
    """Open every panel a user can open: the 'How to do it's, quick pain, the questions."""
    for summary in page.locator(".backcare-howto-panel summary").all():
        summary.click()
    for toggle in page.locator(".backcare-disclosure-button").all():
        toggle.click()
    expect(page.get_by_role("combobox", name="Pain now", exact=True)).to_be_visible()


def tab_to(page, want, *, key: str = "Tab", limit: int = 80) -> int:
    """Press key until want(focused) holds; return the number of presses. Every element
    reached must have a name and a visible focus ring."""
    for n in range(1, limit + 1):
        page.keyboard.press(key)
        f = page.evaluate(FOCUSED)
        if f is None:
            continue
        assert f["name"], f  # a screen reader has something to read
        assert f["ring"], str(f)  # and a sighted keyboard user sees where they are
        if want(f):
            return n
    raise AssertionError(f"not reached in {limit} presses of {key}: last {f}")


def is_save(f) -> bool:
    return f["tag"] == "button" and f["name"] == "Save"


# ---- on a phone ------------------------------------------------------------------------
def test_on_a_phone_nothing_overflows_nothing_is_cut_and_targets_are_big(
    app_server, page, screenshots
):
    open_app(page, app_server)
    snap(page, screenshots / "phone_checklist_first_screen.png", whole=False)
    assert_fits_a_phone(page)
    flag = "New numbness in the saddle area (between the legs, buttocks, inner thighs)"
    label = page.get_by_text(flag, exact=True)
    assert label.is_visible()  # the whole label, wrapped
    open_panels(page)
    page.get_by_role("checkbox", name=flag, exact=True).check()
    page.get_by_text("Stop and contact a clinician today.").wait_for()
    assert_fits_a_phone(page)
    snap(page, screenshots / "phone_checklist_open.png")


# ---- axe-core --------------------------------------------------------------------------
def test_axe_finds_no_serious_violation_on_the_checklist_with_a_red_flag_and_saved(
    app_server, e2e_store, page, screenshots
):
    open_app(page, app_server)
    assert axe_problems(page) == []
    open_panels(page)
    assert axe_problems(page) == []
    page.get_by_role("checkbox", name="Pelvic Tilt", exact=True).check()
    page.get_by_role("checkbox", name="Fever, or weight loss you cannot explain").check()
    alert = page.locator(".backcare-error", has_text="Stop and contact a clinician today.")
    alert.wait_for()
    assert axe_problems(page) == []
    page.locator("button.backcare-save").click()
    page.get_by_text("Saved your session").wait_for()
    page.get_by_text("Saved with warning signs: stop and contact a clinician today.").wait_for()
    # the red message stands alone, above the heading's neighbours, not inside "Saved"
    assert page.locator(".backcare-success .backcare-error").count() == 0
    top = page.locator(".backcare-error", has_text="Saved with warning signs").bounding_box()
    day = page.locator("h2.backcare-day").bounding_box()
    first_row = page.locator(".backcare-exercise").first.bounding_box()
    assert day["y"] < top["y"] < first_row["y"]
    assert axe_problems(page) == []
    assert_fits_a_phone(page)
    snap(page, screenshots / "phone_saved_with_red_flag.png")
    page.locator("h2.backcare-day").scroll_into_view_if_needed()
    snap(page, screenshots / "phone_red_flag_top.png", whole=False)  # what the top shows
    with open_store(e2e_store) as store:
        assert store.sessions("sam").loc[0, "red_flags"] == "fever-weight-loss"


# ---- keyboard only ---------------------------------------------------------------------
def test_save_is_four_tab_presses_from_page_load_through_the_skip_link(app_server, page):
    open_app(page, app_server)
    # the app's two view buttons (Today, My progress) come first, then the skip link
    assert tab_to(page, lambda f: f["tag"] == "a" and f["name"] == "Skip to Save") == 3
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.hash.startsWith('#backcare-save-')")
    assert tab_to(page, is_save, limit=1) == 1  # 4 Tab presses and one Enter in all
    open_app(page, app_server)  # afresh (no #fragment), to count without the skip link
    page.bring_to_front()
    without = tab_to(page, is_save, limit=120)  # Tab after Tab, past every exercise
    print(f"Tab presses from page load to Save: 4 with the skip link, {without} without")


def test_a_whole_session_by_keyboard_only(app_server, e2e_store, page, screenshots):
    open_app(page, app_server)
    kb = page.keyboard

    def at_checkbox(name):
        return lambda f: f["type"] == "checkbox" and f["name"] == name

    tab_to(page, at_checkbox("Pelvic Tilt"))
    kb.press("Space")
    expect(page.get_by_role("checkbox", name="Pelvic Tilt", exact=True)).to_be_checked()

    # the hold timer: Plank's hold set to 2 s, its Start button pressed with Enter
    tab_to(page, at_checkbox("Plank"))
    tab_to(page, lambda f: f["type"] == "number" and f["name"] == "hold (s)", limit=1)
    kb.press("Control+A")
    kb.type("2")
    tab_to(page, lambda f: f["tag"] == "button" and f["name"].startswith("Start"), limit=1)
    expect(page.locator("button:focus")).to_have_text("Start 2 s hold")
    kb.press("Enter")
    expect(page.get_by_role("checkbox", name="Plank", exact=True)).to_be_checked(timeout=30_000)

    # Plank's "How to do it" opens with Enter and closes with Space
    tab_to(page, lambda f: f["tag"] == "summary" and f["name"] == "How to do it: Plank")
    kb.press("Enter")
    panel = page.locator("details.backcare-howto-panel[open]")
    expect(panel).to_have_count(1)
    expect(panel.get_by_text("Position:")).to_be_visible()
    kb.press("Space")
    expect(panel).to_have_count(0)

    # pain before: 6, with the arrow keys (from "not recorded": 0, 1, ... 6)
    tab_to(page, lambda f: f["tag"] == "select" and f["name"] == "Pain before")
    for _ in range(7):
        kb.press("ArrowDown")
    assert page.evaluate(FOCUSED)["label"] == "6"

    # back up one (Shift+Tab) and down again: focus moves both ways
    tab_to(page, at_checkbox("Hamstring Stretch"), key="Shift+Tab")
    tab_to(page, is_save)
    kb.press("Enter")
    page.get_by_text("Saved your session").wait_for()

    # the quick pain entry: a real button opens it, then 3 with the arrows, Record pain
    tab_to(page, lambda f: f["tag"] == "button" and f["name"].startswith("Quick pain entry"))
    quick = page.get_by_role("button", name="Quick pain entry (no session)")
    expect(quick).to_have_attribute("aria-expanded", "false")  # a screen reader says "collapsed"
    kb.press("Space")
    expect(quick).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("combobox", name="Pain now", exact=True)).to_be_visible()
    tab_to(page, lambda f: f["tag"] == "select" and f["name"] == "Pain now", limit=3)
    for _ in range(4):
        kb.press("ArrowDown")
    assert page.evaluate(FOCUSED)["label"] == "3"
    tab_to(page, lambda f: f["tag"] == "button" and f["name"] == "Record pain", limit=3)
    kb.press("Enter")
    page.get_by_text("Recorded pain 3 / 10").wait_for()
    snap(page, screenshots / "phone_keyboard_session.png")

    with open_store(e2e_store) as store:
        sessions = store.sessions("sam")
        items = store.items("sam").set_index("exercise_id")
        pain = store.pain("sam")
    assert len(sessions) == 1 and sessions.loc[0, "pain_before"] == 6
    assert sorted(items.index[items["done"]]) == ["pelvic-tilt", "plank"]
    assert items.loc["plank", "hold_s"] == 2  # what the timer counted, not the prescribed 30
    assert len(pain) == 1 and pain.loc[0, "score"] == 3


def test_record_pain_stores_the_score_shown_even_when_the_kernel_answers_late(
    app_server, e2e_store, page
):
    """ipywidgets sends one update per widget at a time and holds later ones until the kernel
    answers; a click goes at once. The kernel's answers are held back here (as on a busy
    server), so four arrow presses and Record pain reach the kernel as: pain 0, then (held)
    pain 3. A plain ipywidgets Button stored 0. The click must wait for the 3."""
    held: list = []
    hold = {"on": False}
    sockets: list = []

    def relay(ws):
        sockets.append(ws)
        server = ws.connect_to_server()  # the page's messages go straight through

        def to_page(message):
            if hold["on"]:
                held.append(message)
            else:
                ws.send(message)

        server.on_message(to_page)

    page.route_web_socket("**/api/kernels/*/channels**", relay)
    open_app(page, app_server)
    page.get_by_role("button", name="Quick pain entry (no session)").click()
    choice = page.get_by_role("combobox", name="Pain now", exact=True)
    choice.focus()

    hold["on"] = True
    for _ in range(4):  # not recorded -> 0, 1, 2, 3
        page.keyboard.press("ArrowDown")
    assert page.evaluate(FOCUSED)["label"] == "3"
    page.get_by_role("button", name="Record pain").press("Enter")
    page.wait_for_timeout(3000)  # the kernel has long had pain 0 (and, unguarded, the click)
    with open_store(e2e_store) as store:
        assert len(store.pain("sam")) == 0  # nothing recorded while pain 3 is still in the page
    expect(page.get_by_role("button", name="Record pain")).to_have_attribute("aria-busy", "true")

    hold["on"] = False
    assert held, "the kernel answered pain 0 (held back here)"
    for message in held:  # the kernel's late answers, in order
        sockets[-1].send(message)
    page.get_by_text("Recorded pain 3 / 10").wait_for(timeout=60_000)
    with open_store(e2e_store) as store:
        pain = store.pain("sam")
    assert len(pain) == 1 and pain.loc[0, "score"] == 3
