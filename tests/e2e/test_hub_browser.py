"""`backcare hub`: a real JupyterHub and configurable-http-proxy on 127.0.0.1, two patients and
one physiotherapist, driven in Chromium.

Patient A logs in and lands on their own checklist, ticks two exercises and saves; B logs in
and sees only B; A's cookie is refused at B's server, at A's own JupyterLab, terminals,
contents API and the hub's admin page; the physiotherapist's clinic overview (JupyterLab, Run
All) shows A's new session. Then the walls below the UI: on PostgreSQL, A's server connects
as A's own database role, which selects none of B's sessions and cannot insert one for B; on
SQLite there are no roles, and the test says so (the hub is the only wall). Last, A's server
is stopped the way jupyterhub-idle-culler stops an idle one (the culler's own timing is not
waited for here) and A's next visit starts a fresh server showing the saved session.

Login-to-checklist time and the memory of the hub with three servers are printed and
appended to screenshots/timings.txt (no timed assertions)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import time
import zoneinfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from backcare.servers import free_port
from backcare.store import open_store
from backcare.store import schema as S
from tests.e2e.test_today_browser import record_timing, tick
from tests.support.hub import (
    add_account,
    drop_store_roles,
    environ_of,
    hub_api,
    rss_kib,
    tree_rss_kib,
    user_servers,
)
from tests.support.servers import alive, process_tree, start_cli
from tests.support.stores import add_default_patient

pytestmark = pytest.mark.e2e

PASSWORDS = {"anna": "anna-secret-1", "ben": "ben-secret-22", "phil": "phil-secret-333"}
NAMES = {"anna-p": "Anna Able", "ben-p": "Ben Baker"}
IDLE_TIMEOUT = 600  # the test hub's culler (seconds; the default is 1800)


@pytest.fixture(params=["postgresql", "sqlite"])
def clinic(request, tmp_path):
    """A store with patients anna-p and ben-p on the default programme (the test's
    PostgreSQL database, or a SQLite file), accounts anna, ben (patients) and phil
    (physiotherapist) added with `backcare account add`, and `backcare hub` running on a
    free port. Yields (hub URL, store URL, hub folder, hub process)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'clinic.db'}"
    with open_store(url) as store:
        for pid, name in NAMES.items():
            add_default_patient(store, pid, name, "Europe/London")
    folder = tmp_path / "hub"
    for name, kind in (
        ("anna", ["--patient", "anna-p"]),
        ("ben", ["--patient", "ben-p"]),
        ("phil", ["--physio"]),
    ):
        done = add_account(folder, url, name, PASSWORDS[name], *kind)
        assert done.returncode == 0, done.stderr
    quiet = folder / "users" / "phil" / ".lab-settings" / "@jupyterlab"
    (quiet / "apputils-extension").mkdir(parents=True)
    (quiet / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}'
    )
    hub = start_cli(
        ["hub", "--port", str(free_port()), "--idle-timeout", str(IDLE_TIMEOUT)],
        db_url=url,
        log=tmp_path / "hub.log",
        extra_env={"BACKCARE_HUB_DIR": str(folder), "BACKCARE_HUB_ACTIVITY_INTERVAL": "10"},
        timeout=180,
    )
    tree = process_tree(hub.proc.pid)
    try:
        yield hub.url.rstrip("/"), url, folder, hub.proc
    finally:
        tree = sorted(set(tree + process_tree(hub.proc.pid)))
        hub.proc.send_signal(signal.SIGTERM)
        try:
            hub.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:  # pragma: no cover - killed below
            pass
        for pid in alive(tree):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        drop_store_roles(url)


def log_in(browser, base: str, name: str):
    """A new browser context logged in as name; returns (context, page, seconds from the
    login click until the landing page's content is there)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(180_000)
    page.goto(f"{base}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORDS[name])
    t0 = time.perf_counter()
    page.click("#login_submit")
    if name == "phil":
        page.wait_for_url("**/user/phil/lab**")
        page.locator(".jp-DirListing-item", has_text="03_clinic_overview").wait_for()
    else:
        page.get_by_role("checkbox", name="Plank", exact=True).wait_for()
    return context, page, time.perf_counter() - t0


def refused(context, url: str) -> int:
    """The final status of GET url with this context's cookies (redirects followed)."""
    return context.request.get(url, max_redirects=10).status


def hub_pid(folder) -> int:
    return int((folder / "jupyterhub.pid").read_text())


def test_a_clinic_on_jupyterhub(clinic, browser, screenshots):
    base, url, folder, _ = clinic
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    today = dt.datetime.now(zoneinfo.ZoneInfo("Europe/London")).date()

    # --- a wrong password, an unknown name and a disabled account get the same refusal
    context = browser.new_context()
    page = context.new_page()
    for name, password in (("anna", "not-her-password"), ("nobody", "whatever-1234")):
        page.goto(f"{base}/hub/login")
        page.fill("#username_input", name)
        page.fill("#password_input", password)
        page.click("#login_submit")
        page.get_by_text("Invalid username or password").wait_for()
    context.close()

    # --- patient A: login -> own checklist; tick two exercises, save
    ctx_a, page_a, t_a = log_in(browser, base, "anna")
    record_timing(screenshots, f"hub ({backend}): login -> patient's checklist usable", t_a)
    assert page_a.url.startswith(f"{base}/user/anna/voila/render/")
    assert page_a.get_by_text("Patient: Anna Able").is_visible()
    tick(page_a, "Pelvic Tilt")
    tick(page_a, "Cat-Cow Stretch")
    page_a.locator("button.backcare-save").click()
    page_a.get_by_text("Saved your session").wait_for()
    page_a.screenshot(path=str(screenshots / f"hub-{backend}-anna.png"))
    with open_store(url) as store:
        saved = store.sessions("anna-p")
        items = store.items("anna-p").set_index("exercise_id")
    assert len(saved) == 1 and saved.loc[0, "day"].date() == today
    assert sorted(items.index[items["done"]]) == ["cat-cow", "pelvic-tilt"]

    # --- patient B: own checklist, nothing of A's anywhere in the page or its websocket
    frames: list[str] = []
    ctx_b = browser.new_context(viewport={"width": 1200, "height": 900})
    ctx_b.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda f: frames.append(f if isinstance(f, str) else f.decode("utf-8", "replace")),
        ),
    )
    ctx_b.close()
    ctx_b, page_b, t_b = log_in(browser, base, "ben")
    record_timing(screenshots, f"hub ({backend}): login -> patient's checklist usable", t_b)
    assert page_b.get_by_text("Patient: Ben Baker").is_visible()
    text = page_b.evaluate("() => document.body.innerText") + page_b.content()
    assert "Anna" not in text and "anna-p" not in text
    assert page_b.locator("select option", has_text="Anna").count() == 0
    assert not page_b.get_by_role("checkbox", name="Pelvic Tilt", exact=True).is_checked()

    # --- A's cookie is refused at B's server and at everything but A's checklist
    for path in (
        "/user/ben/voila/render/01_today.ipynb",  # B's server (running)
        "/user/ben/",
        "/user/anna/lab",  # A's own JupyterLab
        "/user/anna/tree",
        "/user/anna/api/contents",  # the contents API
        "/user/anna/api/contents/01_today.ipynb",
        "/user/anna/files/01_today.ipynb",
        "/user/anna/api/terminals",  # the terminal
        "/user/anna/terminals/1",
        "/user/anna/api/kernels",  # the list of kernels, sessions
        "/user/anna/api/sessions",
        "/user/anna/voila/render/03_clinic_overview.ipynb",  # any other notebook
        "/hub/admin",  # the hub's admin page and API
        "/hub/api/users",
    ):
        assert refused(ctx_a, base + path) == 403, path
    assert refused(ctx_a, f"{base}/user/anna/api") == 200  # the server's version: allowed

    # --- below the UI: the database connection A's server (and kernel) was given
    servers = user_servers(hub_pid(folder))
    assert set(servers) == {"anna", "ben"}
    env_a = environ_of(servers["anna"])
    assert env_a["BACKCARE_PATIENT"] == "anna-p" and env_a["BACKCARE_APP"] == "1"
    if backend == "PostgreSQL":
        given = sa.make_url(env_a["BACKCARE_DB"])
        assert given.username != sa.make_url(url).username  # not the store's owner
        assert given.username.endswith("_anna")
        engine = sa.create_engine(given.set(drivername="postgresql+psycopg"))
        try:
            with engine.connect() as conn:
                ben = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(S.sessions)
                    .where(S.sessions.c.patient_id == "ben-p")
                ).scalar()
                assert ben == 0
                assert conn.execute(sa.select(S.patients.c.patient_id)).scalars().all() == [
                    "anna-p"
                ]
            with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
                with engine.begin() as conn:
                    now = dt.datetime.now(dt.UTC)
                    conn.execute(
                        sa.insert(S.sessions).values(
                            session_id="forged-by-anna",
                            patient_id="ben-p",
                            day=today,
                            created_at=now,
                            updated_at=now,
                        )
                    )
        finally:
            engine.dispose()
    else:
        # SQLite has no roles: A's server holds the store's file itself; the hub (login,
        # refusals above, the patient fixed by the account) is the only wall
        assert env_a["BACKCARE_DB"] == url
        print("hub (SQLite): no database roles; walls by the hub only")
    assert "BACKCARE_HUB_DIR" not in env_a and "CONFIGPROXY_AUTH_TOKEN" not in env_a

    # --- the physiotherapist: JupyterLab on the clinic notebooks
    ctx_p, page_p, t_p = log_in(browser, base, "phil")
    record_timing(screenshots, f"hub ({backend}): login -> physiotherapist's JupyterLab", t_p)

    # --- the memory of the hub with three servers running (A's, B's, the physiotherapist's)
    running = user_servers(hub_pid(folder))
    assert set(running) == {"anna", "ben", "phil"}
    hub_only = rss_kib(hub_pid(folder))
    total = tree_rss_kib(hub_pid(folder))
    per_user = {name: tree_rss_kib(pid) for name, pid in running.items()}
    line = (
        f"hub ({backend}) with 3 servers: RSS hub {hub_only / 1024:.0f} MB; hub, proxy, culler, "
        f"servers and kernels {total / 1024:.0f} MB ("
        + ", ".join(
            f"{k}'s server and kernels {v / 1024:.0f} MB" for k, v in sorted(per_user.items())
        )
        + ")"
    )
    print(line)
    with open(screenshots / "timings.txt", "a", encoding="utf-8") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {line}\n")

    # --- the physiotherapist's clinic overview (Run All) shows A's new session
    page_p.goto(f"{base}/user/phil/lab/tree/03_clinic_overview.ipynb")
    page_p.locator(".jp-Notebook-ExecutionIndicator[data-status=idle]").wait_for(state="attached")
    rows = page_p.locator(".backcare-clinic table.dataTable tbody tr")
    for attempt in range(3):  # Run All before the kernel is connected runs nothing: again
        # a kernel slow to start (a busy machine) makes JupyterLab ask which one to use:
        # answer as the physiotherapist would, with its preselected Python 3
        dialog = page_p.locator(".jp-Dialog")
        if dialog.is_visible():
            page_p.screenshot(path=str(screenshots / f"hub-{backend}-physio-dialog.png"))
            dialog.get_by_role("button", name="Select", exact=True).click()
            dialog.wait_for(state="hidden")
        try:  # the dialog can also come up while this waits: then the next attempt answers
            page_p.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click(timeout=30_000)
            page_p.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click(
                timeout=30_000
            )
            rows.first.wait_for(timeout=60_000)
            break
        except PlaywrightTimeout:
            page_p.screenshot(path=str(screenshots / f"hub-{backend}-physio-{attempt}.png"))
    rows.first.wait_for()
    anna_row = rows.filter(has_text="anna-p").inner_text()
    assert "Anna Able" in anna_row and str(today) in anna_row  # Last session: today
    assert "never" in rows.filter(has_text="ben-p").inner_text()
    page_p.screenshot(path=str(screenshots / f"hub-{backend}-physio.png"))
    ctx_b.close()
    ctx_p.close()

    # --- A's server is stopped as jupyterhub-idle-culler stops an idle one (the hub's API,
    # DELETE /users/NAME/server: the culler is running, with the scopes to do it); A's next
    # visit starts a fresh server, and nothing is lost
    services = hub_api(base, folder, "services")
    assert services["idle-culler"]["command"][2:] == [  # type: ignore[index]
        "jupyterhub_idle_culler",
        f"--timeout={IDLE_TIMEOUT}",
        "--cull-every=60",  # a quarter of the timeout, at most a minute
    ]
    page_a.close()
    hub_api(base, folder, "users/anna/server", method="DELETE")
    deadline = time.monotonic() + 120
    while hub_api(base, folder, "users/anna")["servers"]:  # type: ignore[index]
        assert time.monotonic() < deadline, "anna's server did not stop"
        time.sleep(2)
    assert "anna" not in user_servers(hub_pid(folder))
    page_a = ctx_a.new_page()
    page_a.set_default_timeout(180_000)
    t0 = time.perf_counter()
    page_a.goto(f"{base}/hub/")
    page_a.get_by_text("You already saved a session for this day").wait_for()
    record_timing(
        screenshots,
        f"hub ({backend}): culled patient's next visit -> checklist",
        time.perf_counter() - t0,
    )
    assert page_a.get_by_role("checkbox", name="Pelvic Tilt", exact=True).is_checked()
    assert page_a.get_by_role("checkbox", name="Cat-Cow Stretch", exact=True).is_checked()
    ctx_a.close()
