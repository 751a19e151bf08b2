"""The clinic overview in a real browser: the table widget renders offline, red-flag rows come
first and are marked, search filters, a selected row opens that patient's trends and
programme, and a patient's name is shown as text, never run."""

from __future__ import annotations

import datetime as dt

import pytest

from backcare.domain.programme import Prescription
from backcare.store import open_store
from tests.support.hostile import SCRIPT
from tests.support.servers import app_for_cells

pytestmark = pytest.mark.e2e

TODAY = dt.date(2026, 3, 31)
CELLS = [
    "import datetime as dt\n"
    "from backcare.store import open_store\n"
    "from backcare.ui.clinic import ClinicView\n"
    "store = open_store(upgrade=False)",
    f"ClinicView(store, dt.date.fromisoformat('{TODAY}')).widget",
]


def clinic_store(path) -> str:
    """Three patients written through the store: steady, a red flag today, a hostile name."""
    url = f"sqlite:///{path}"
    start = TODAY - dt.timedelta(days=29)
    with open_store(url) as store:
        for pid, name in (("steady", "Steady Sam"), ("flagged", "Flagged Fay"), ("x", SCRIPT)):
            store.add_patient(pid, name, "Europe/London")
            store.set_programme(pid, [Prescription("plank", hold_s=30)], start)
            for d in range(30):
                store.save_session(
                    pid,
                    [{"exercise_id": "plank", "done": True, "hold_s": 30}],
                    day=start + dt.timedelta(days=d),
                    pain_before=4,
                    red_flags=["night-pain"] if (pid, d) == ("flagged", 29) else [],
                )
    return url


@pytest.fixture
def clinic_app(tmp_path):
    with app_for_cells(CELLS, clinic_store(tmp_path / "store.db"), tmp_path) as server:
        yield server


def test_clinic_table_in_the_browser(page, clinic_app, screenshots):
    server = clinic_app
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server.base}/?token={server.token}")
    rows = page.locator(".backcare-clinic table.dataTable tbody tr")
    rows.first.wait_for(timeout=120_000)
    assert rows.count() == 3
    # the red-flag patient first, marked, and the alarm above the table
    first = rows.nth(0)
    assert "RED FLAG" in first.inner_text() and "flagged" in first.inner_text()
    assert page.get_by_text("ticked a red flag in the last 14 days").is_visible()
    # one line per patient: no cell wraps
    heights = rows.evaluate_all("rs => rs.map(r => r.getBoundingClientRect().height)")
    assert max(heights) < 40, heights
    # the hostile name is text
    assert page.locator(".backcare-clinic td", has_text=SCRIPT).count() == 1
    # search filters in the browser
    page.locator(".backcare-clinic input[type=search]").fill("Steady")
    page.wait_for_timeout(300)
    assert rows.count() == 1 and "steady" in rows.nth(0).inner_text()
    # a selected row opens that patient's trends and programme
    rows.nth(0).click()
    page.locator(".backcare-physio-patient", has_text="Steady Sam").wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshots / "clinic.png"), full_page=True)
    assert dialogs == []
    assert page.locator(".backcare-clinic script").count() == 0
    # blob: the table widget's own script, loaded from the page (anywidget), not a network
    assert page.requested_hosts <= {"127.0.0.1", "data", "blob"}, page.requested_hosts
