"""The app's kernels in a real browser: kept ready ahead of the page, shut down when the page is
left or reloaded, culled when a page vanished without saying so, and a reloaded page showing
the store as it is then.

Kernels are counted in the server's process tree (the `ipykernel_launcher` processes below it).
APP_POOL_SIZE kernels are kept ready; a page holds one more."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from playwright.sync_api import expect

from backcare.servers import APP_POOL_SIZE, app_command, free_port, new_token
from backcare.store import open_store
from tests.support.servers import (
    kernel_pids,
    start_server,
    stop_server,
    wait_idle,
    wait_until,
)

pytestmark = pytest.mark.e2e

RELOADS = 20
CONFIG_DATA = "() => JSON.parse(document.getElementById('jupyter-config-data').textContent)"


def wait_usable(page) -> None:
    """Until the checklist can be used: Save and the first exercise's checkbox shown, enabled."""
    expect(page.locator("button.backcare-save")).to_be_enabled(timeout=180_000)
    expect(page.locator(".backcare-exercise input[type=checkbox]").first).to_be_enabled(
        timeout=180_000
    )


def kernel_count(server) -> int:
    return len(kernel_pids(server.proc.pid))


def settle_kernels(server, most: int) -> int:
    """The kernel count once it is at most `most` (or, if it never gets there, the last count)."""
    wait_until(lambda: kernel_count(server) <= most, limit=90)
    return kernel_count(server)


@pytest.fixture
def quick_refill_app(e2e_store, tmp_path):
    """The app's server, its next kernel started 1 s (not APP_FILL_DELAY_S) after a page took
    one: the same kernels, started sooner, so that 20 reloads take minutes less."""
    port, token = free_port(), new_token()
    server = start_server(
        app_command(port, fill_delay_s=1),
        db_url=e2e_store,
        token=token,
        port=port,
        ready_path="/login",
        log=tmp_path / "voila.log",
    )
    yield server
    stop_server(server)


@pytest.fixture
def culling_app(e2e_store, tmp_path):
    """The app's server with idle kernels culled after 20 s without a page, checked every 2 s."""
    port, token = free_port(), new_token()
    server = start_server(
        app_command(port, cull_idle_s=20, cull_interval_s=2),
        db_url=e2e_store,
        token=token,
        port=port,
        ready_path="/login",
        log=tmp_path / "voila.log",
    )
    yield server
    stop_server(server)


def test_twenty_reloads_leave_the_pool_plus_the_page_kernel(quick_refill_app, page):
    app_server = quick_refill_app
    page.goto(f"{app_server.base}/?token={app_server.token}")
    wait_usable(page)
    seen = []
    for _ in range(RELOADS):
        page.reload()
        wait_usable(page)
        seen.append(kernel_count(app_server))
    print("kernels after each reload:", seen)
    assert settle_kernels(app_server, APP_POOL_SIZE + 1) == APP_POOL_SIZE + 1
    log = app_server.log.read_text(errors="replace")
    assert "_xsrf" not in log  # no shutdown refused for want of the XSRF token
    assert log.count("Kernel shutdown:") >= RELOADS  # every page left shut its kernel down
    assert page.get_by_text("Patient: Sam Example").is_visible()  # still the checklist


def test_the_shutdown_request_needs_the_xsrf_token(app_server, page):
    page.goto(f"{app_server.base}/?token={app_server.token}")
    wait_usable(page)
    kernel = page.evaluate(CONFIG_DATA)["kernelId"]
    xsrf = {c["name"]: c["value"] for c in page.context.cookies()}.get("_xsrf")
    assert xsrf  # the page was given the cookie its shutdown request sends back
    url = f"{app_server.base}/voila/api/shutdown/{kernel}"
    assert page.request.post(url).status == 403  # the login cookie alone is not enough
    assert page.request.post(url, form={"_xsrf": "2|00000000|11111111|1"}).status == 403
    # the page's kernel and, once refilled (APP_FILL_DELAY_S after the page took one), the pool's
    wait_until(lambda: kernel_count(app_server) == APP_POOL_SIZE + 1, limit=90)
    assert kernel_count(app_server) == APP_POOL_SIZE + 1
    assert page.request.post(url, form={"_xsrf": xsrf}).status == 204
    assert settle_kernels(app_server, APP_POOL_SIZE) == APP_POOL_SIZE


def test_a_kernel_whose_page_vanished_is_culled(culling_app, page):
    page.goto(f"{culling_app.base}/?token={culling_app.token}")
    wait_usable(page)
    wait_until(lambda: kernel_count(culling_app) == APP_POOL_SIZE + 1, limit=120)
    page.close()  # without running beforeunload: no shutdown request, as when a phone drops a tab
    assert settle_kernels(culling_app, APP_POOL_SIZE) == APP_POOL_SIZE
    assert "Culling 'idle' kernel" in culling_app.log.read_text(errors="replace")


def test_a_page_shows_the_sessions_saved_after_its_kernel_was_started(app_server, e2e_store, page):
    wait_until(lambda: kernel_count(app_server) == APP_POOL_SIZE, limit=120)
    wait_idle(app_server.proc.pid)  # the kept kernel has run the notebook up to the page
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(zoneinfo.ZoneInfo("Europe/London")).date()  # Sam's day
    with open_store(e2e_store) as store:  # saved elsewhere (another device) meanwhile
        store.save_session(
            "sam",
            [{"exercise_id": "pelvic-tilt", "done": True, "reps": 10}],
            day=today,
            pain_before=5,
            pain_after=3,
            started_at=now - dt.timedelta(minutes=12),
            ended_at=now - dt.timedelta(minutes=2),
        )

    page.goto(f"{app_server.base}/?token={app_server.token}")
    wait_usable(page)
    page.get_by_text("You already saved a session for this day").wait_for()
    expect(page.get_by_role("checkbox", name="Pelvic Tilt", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name="Cat-Cow Stretch", exact=True)).not_to_be_checked()

    page.get_by_role("checkbox", name="Cat-Cow Stretch", exact=True).check()  # and in this page
    page.locator("button.backcare-save").click()
    page.get_by_text("Updated your session").wait_for()
    page.reload()
    wait_usable(page)
    expect(page.get_by_role("checkbox", name="Pelvic Tilt", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name="Cat-Cow Stretch", exact=True)).to_be_checked()
    with open_store(e2e_store) as store:
        assert len(store.sessions("sam")) == 1  # the same session, updated
