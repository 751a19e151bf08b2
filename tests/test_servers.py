"""`backcare lab` and `backcare app`: 127.0.0.1 only, a token required, the full URL printed.

The last tests start real servers (no browser) and check that a request without the token
is refused while one with it gets the page."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from backcare import servers
from backcare.errors import BackcareError
from backcare.servers import app_command, app_url, free_port, lab_command, new_token, server_env
from backcare.store import open_store
from tests.support import ROOT
from tests.support.servers import (
    alive,
    get,
    make_store,
    process_tree,
    start_cli,
    start_server,
    stop_server,
)


def test_lab_command_binds_localhost_with_no_port_retries_and_no_token():
    cmd = lab_command(8123, Path("notebooks"))
    assert "--ip=127.0.0.1" in cmd and "--port=8123" in cmd
    assert "--ServerApp.port_retries=0" in cmd and "--no-browser" in cmd
    assert not any("token" in a.lower() for a in cmd)  # the token goes in a file, never here
    assert ("--allow-root" in cmd) == (os.geteuid() == 0)


def test_app_command_serves_the_checklist_with_voila_code_hidden_and_no_token_on_it():
    cmd = app_command(8124)
    assert cmd[1:4] == ["-m", "voila", str(ROOT / "backcare" / "notebooks" / "01_today.ipynb")]
    for arg in (
        "--Voila.ip=127.0.0.1",
        "--Voila.port=8124",
        "--Voila.port_retries=0",
        "--Voila.auto_token=True",  # the identity provider reads JUPYTER_TOKEN_FILE
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--no-browser",
        "--VoilaConfiguration.template=backcare",
    ):
        assert arg in cmd
    assert not any("--Voila.token" in a or "IdentityProvider.token" in a for a in cmd)


def test_app_command_keeps_one_kernel_ready_culls_idle_ones_and_gives_pages_the_xsrf_cookie():
    cmd = app_command(8124)
    for arg in (
        "--VoilaConfiguration.preheat_kernel=True",
        f"--VoilaConfiguration.default_pool_size={servers.APP_POOL_SIZE}",
        "--MappingKernelManager.cull_idle_timeout=600",  # ten minutes (docs/performance.md)
        "--MappingKernelManager.cull_interval=60",
        "--VoilaKernelManager.fill_delay=10.0",  # the next kernel starts once the page is drawn
        "--Voila.identity_provider_class=backcare.voila_app.AppIdentityProvider",
    ):
        assert arg in cmd
    assert servers.APP_POOL_SIZE == 1  # about 165 MB a kernel: one kept ready on a laptop
    assert not any("xsrf" in a.lower() for a in cmd)  # the XSRF check stays on
    plain = app_command(8124, pool_size=0, cull_idle_s=30, cull_interval_s=5)
    assert not any("preheat" in a or "pool_size" in a for a in plain)
    assert "--MappingKernelManager.cull_idle_timeout=30" in plain
    assert "--MappingKernelManager.cull_interval=5" in plain


def test_the_app_identity_provider_is_voilas_and_importable():
    from jupyter_server.auth.identity import PasswordIdentityProvider

    from backcare.voila_app import AppIdentityProvider

    assert issubclass(AppIdentityProvider, PasswordIdentityProvider)


def test_outside_a_kernel_kept_ahead_ready_for_page_is_the_view_built_once(monkeypatch):
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    built = []
    assert servers.ready_for_page(lambda: built.append(1) or "view", store=None) == "view"
    assert built == [1]
    servers.wait_for_page()  # returns at once


class _Held:
    """A view as the app's notebook builds it: a box on the page, and a panel's content that
    joins the page only when opened (no trait reaches it)."""

    def __init__(self, day=None, today=None):
        import ipywidgets as W

        self.later = W.VBox([W.Checkbox(description="in a closed panel")])
        self.widget = W.VBox([W.HTML("on the page")])
        self.day, self._today = day, today

    def local_today(self):
        return self._today


def _preheated(monkeypatch, page_after_s: float, stamps=None):
    """Pretend to be a kernel Voila started ahead of its page, which a page takes after
    page_after_s; the store's stamp is stamps' next value at each check (or never changes)."""
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    monkeypatch.setattr(servers, "wait_for_page", lambda: time.sleep(page_after_s))
    stamps = list(stamps or [(1,)])

    def stamp(_store):  # the next value, then the last one for ever
        return stamps.pop(0) if len(stamps) > 1 else stamps[0]

    monkeypatch.setattr(servers, "_store_stamp", stamp)


def test_a_kept_view_is_not_built_again_while_the_store_and_the_day_stay(monkeypatch):
    import datetime as dt

    _preheated(monkeypatch, page_after_s=0.5)
    built = []
    day = dt.date(2026, 12, 1)

    def build():
        built.append(_Held(day=day, today=day))
        return built[-1]

    # 0.5 s of waiting at one check per 0.02 s: about 25 checks, and none builds again
    assert servers.ready_for_page(build, store=None, poll_s=0.02) is built[0]
    assert len(built) == 1
    # a view without a day (day and local_today) is current too
    built.clear()
    assert servers.ready_for_page(lambda: built.append(1) or "view", None, 0.02) == "view"
    assert built == [1]


def test_a_write_builds_the_view_again_and_closes_every_widget_of_the_old_one(monkeypatch):
    # the stamp read at the start, then a write seen at the first check, then nothing new
    _preheated(monkeypatch, page_after_s=0.3, stamps=[(1,), (2,)])
    built = []
    view = servers.ready_for_page(lambda: built.append(_Held()) or built[-1], None, 0.05)
    assert len(built) == 2 and view is built[1]
    old, new = built
    live = list(servers._live_widgets().values())
    for w in (old.widget, *old.widget.children, old.later, *old.later.children):
        assert w.comm is None and w not in live  # closed: the page never loads it
    assert new.later in live and new.widget in live and new.later.comm is not None


def test_the_store_stamp_changes_with_a_write_and_not_with_a_read(tmp_path):
    import datetime as dt

    url = make_store(tmp_path / "store.db")
    with open_store(url) as store:
        first = servers._store_stamp(store)
        store.sessions("sam")
        store.programme_on("sam", dt.date(2026, 3, 2))
        assert servers._store_stamp(store) == first
        store.save_session(
            "sam",
            [{"exercise_id": "plank", "done": True, "hold_s": 30}],
            day=dt.date(2026, 3, 2),
            pain_before=4,
        )
        assert servers._store_stamp(store) != first
    with open_store("sqlite://") as memory:
        assert servers._store_stamp(memory) is None  # no file: read again when the page comes


def test_the_token_file_is_owner_only_and_replaces_jupyter_token(tmp_path):
    path = servers.write_token_file("s3cret", tmp_path)
    assert path.read_text() == "s3cret" and path.stat().st_mode & 0o777 == 0o600
    env = servers.token_env({"JUPYTER_TOKEN": "old", "X": "1"}, path)
    assert env == {"X": "1", "JUPYTER_TOKEN_FILE": str(path)}


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "65536", "70000", "8.5", "", " "])
def test_a_bad_port_is_refused_in_one_line(bad):
    with pytest.raises(BackcareError, match="--port: .* expected a whole number from 1 to 65535"):
        servers.check_port(bad)


@pytest.mark.parametrize("good", ["1", "8866", "65535"])
def test_a_good_port_is_taken_as_asked(good):
    assert servers.check_port(good) == int(good)


def test_a_taken_default_port_moves_to_the_next_free_one_and_an_asked_port_never_moves():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        chosen = servers.choose_port(None, taken)
        assert chosen > taken and servers.port_is_free(chosen)
        assert all(not servers.port_is_free(p) for p in range(taken, chosen))
        with pytest.raises(BackcareError, match=f"--port: {taken} is in use"):
            servers.choose_port(str(taken), 8866)


def test_the_app_template_ships_with_the_package_and_is_put_on_jupyter_path(tmp_path):
    template = servers.JUPYTER_DATA / "voila" / "templates" / "backcare"
    assert (template / "conf.json").is_file() and (template / "index.html.j2").is_file()
    env = server_env({"JUPYTER_PATH": "/elsewhere"}, cwd=tmp_path)
    assert env["JUPYTER_PATH"].split(os.pathsep) == [str(servers.JUPYTER_DATA), "/elsewhere"]
    assert server_env(env, cwd=tmp_path)["JUPYTER_PATH"] == env["JUPYTER_PATH"]  # added once


def test_tokens_are_random_and_urls_carry_them():
    assert new_token() != new_token() and len(new_token()) >= 30
    assert app_url(8866, "abc") == "http://127.0.0.1:8866/?token=abc"


def test_server_env_makes_the_store_and_catalog_absolute(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "exercises.toml").write_text("")
    env = server_env({}, cwd=tmp_path)
    assert env["BACKCARE_DB"] == f"sqlite:///{tmp_path.resolve() / 'data' / 'backcare.db'}"
    assert env["BACKCARE_CATALOG"] == str(tmp_path.resolve() / "data" / "exercises.toml")
    env = server_env({"BACKCARE_DB": "sqlite:///my.db", "BACKCARE_CATALOG": "a.toml"}, cwd=tmp_path)
    assert env["BACKCARE_DB"] == f"sqlite:///{tmp_path.resolve() / 'my.db'}"
    assert env["BACKCARE_CATALOG"] == str(tmp_path.resolve() / "a.toml")
    for url in ("postgresql://u@h/db", "sqlite:////abs/x.db"):
        assert server_env({"BACKCARE_DB": url}, cwd=tmp_path)["BACKCARE_DB"] == url


@pytest.mark.parametrize("which", ["lab", "app"])
def test_run_serves_with_the_token_kept_off_the_command_line(which, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(servers, "serve", lambda command, env, **kw: calls.append((command, kw)))
    monkeypatch.setenv("BACKCARE_TOKEN", "s3cret-token")
    monkeypatch.setenv("BACKCARE_DB", make_store(tmp_path / "one.db"))
    monkeypatch.chdir(ROOT)
    (servers.run_lab if which == "lab" else servers.run_app)("9999")
    command, kw = calls[0]
    assert kw["token"] == "s3cret-token" and kw["port"] == "9999"
    assert not any("s3cret-token" in a for a in command(9999))
    path = "/lab" if which == "lab" else "/"
    assert f"http://127.0.0.1:4242{path}?token=s3cret-token" in kw["announce"](4242)[0]


@pytest.mark.parametrize("which", ["lab", "app"])
def test_run_refuses_a_bad_port_before_anything_starts(which, monkeypatch):
    monkeypatch.setattr(servers, "serve", lambda *a, **k: pytest.fail("started"))
    with pytest.raises(BackcareError, match="--port: '70000'"):
        (servers.run_lab if which == "lab" else servers.run_app)("70000")


@pytest.mark.parametrize("port", ["70000", "0", "abc"])
def test_the_cli_refuses_a_bad_port_with_one_line_and_exit_2(port, capsys):
    from backcare.cli import main

    assert main(["app", "--port", port]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("backcare: error: --port:")


def _two_patients(tmp_path) -> str:
    url = make_store(tmp_path / "two.db")
    with open_store(url) as store:
        store.add_patient("kim", "Kim Other", "UTC")
    return url


def test_the_app_refuses_a_store_of_several_patients_without_one_named(tmp_path):
    env = {"BACKCARE_DB": _two_patients(tmp_path)}
    with pytest.raises(BackcareError, match="holds 2 patients .* --patient ID"):
        servers.app_patient(env)
    assert servers.app_patient(env, "kim") == "kim"
    assert servers.app_patient({**env, "BACKCARE_PATIENT": "sam"}) == "sam"
    with pytest.raises(BackcareError, match="--patient: 'nobody' not found"):
        servers.app_patient(env, "nobody")
    assert servers.app_patient({"BACKCARE_DB": make_store(tmp_path / "one.db")}) == "sam"


def test_the_cli_app_with_several_patients_and_no_patient_exits_2_in_one_line(
    tmp_path, monkeypatch, capsys
):
    from backcare.cli import main

    monkeypatch.setenv("BACKCARE_DB", _two_patients(tmp_path))
    monkeypatch.delenv("BACKCARE_PATIENT", raising=False)
    monkeypatch.setattr(servers, "serve", lambda *a, **k: pytest.fail("started"))
    assert main(["app"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2 patients" in err and "--patient" in err


def test_the_app_kernels_get_the_patient_and_the_private_switch(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(servers, "serve", lambda command, env, **kw: calls.append(env))
    monkeypatch.setenv("BACKCARE_DB", _two_patients(tmp_path))
    servers.run_app(patient="kim")
    assert calls[0]["BACKCARE_PATIENT"] == "kim" and calls[0]["BACKCARE_APP"] == "1"


def test_lab_opens_the_notebooks_folder_of_the_working_directory(tmp_path):
    (tmp_path / "notebooks").mkdir()
    assert servers.find_notebooks(tmp_path) == tmp_path / "notebooks"


def test_lab_in_a_checkout_opens_its_notebooks_from_any_folder(tmp_path):
    assert servers.find_notebooks(tmp_path) == ROOT / "notebooks"
    assert not (tmp_path / "notebooks").exists()  # nothing copied


def test_lab_installed_elsewhere_copies_the_packaged_notebooks_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(servers, "checkout_notebooks", lambda: None)  # as in site-packages
    folder = servers.find_notebooks(tmp_path)
    assert folder == tmp_path / "notebooks"
    packaged = ROOT / "backcare" / "notebooks"
    assert f"copied {len(list(packaged.glob('*.ipynb')))} notebooks" in capsys.readouterr().out
    assert folder.stat().st_mode & 0o777 == 0o700  # saved outputs can hold health data
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in packaged.glob("*.ipynb")
    )
    assert (folder / "01_today.ipynb").read_bytes() == (packaged / "01_today.ipynb").read_bytes()
    (folder / "01_today.ipynb").write_text("my own edits")
    assert servers.find_notebooks(tmp_path) == folder  # the second run opens it as it is
    assert (folder / "01_today.ipynb").read_text() == "my own edits"
    assert capsys.readouterr().out == ""


def test_lab_that_cannot_make_the_notebooks_folder_says_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(servers, "checkout_notebooks", lambda: None)
    (tmp_path / "notebooks").write_text("a file, not a folder")
    with pytest.raises(BackcareError, match="cannot create the notebooks folder"):
        servers.find_notebooks(tmp_path)


def test_run_app_without_the_notebook_is_a_user_error(tmp_path):
    with pytest.raises(BackcareError, match="notebook not found"):
        servers.run_app(9999, tmp_path / "missing.ipynb")


# ---- real servers -------------------------------------------------------------------------
def _store_counts(url: str) -> tuple[int, int]:
    with open_store(url) as store:
        return len(store.sessions()), len(store.pain())


@pytest.fixture(scope="module")
def served_store(tmp_path_factory):
    return make_store(tmp_path_factory.mktemp("served") / "store.db")


@pytest.fixture(scope="module")
def voila_app(served_store, tmp_path_factory):
    port, token = free_port(), new_token()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    server = start_server(
        app_command(port),
        db_url=served_store,
        token=token,
        port=port,
        ready_path="/login",
        log=log,
    )
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def lab(served_store, tmp_path_factory):
    port, token = free_port(), new_token()
    log = tmp_path_factory.mktemp("lab") / "lab.log"
    server = start_server(
        lab_command(port, ROOT / "notebooks"),
        db_url=served_store,
        token=token,
        port=port,
        ready_path="/api/status",
        log=log,
    )
    yield server
    stop_server(server)


@pytest.mark.parametrize(
    "path", ["/", "/?token=wrong", "/voila/render/01_today.ipynb", "/api/kernels"]
)
def test_the_app_refuses_requests_without_the_token(voila_app, path):
    status, headers, _ = get(voila_app.base + path)
    assert status in (302, 403), (status, headers)
    if status == 302:
        assert "/login" in headers["location"]


def test_the_app_with_the_token_shows_the_checklist_without_code_and_writes_nothing(
    voila_app, served_store
):
    before = _store_counts(served_store)
    status, headers, body = get(f"{voila_app.base}/?token={voila_app.token}", timeout=120)
    assert status == 200, voila_app.log_tail()
    assert "<h1" in body and "My exercises" in body  # the notebook's title, its markdown
    assert "application/vnd.jupyter.widget-view+json" in body  # the checklist widget was displayed
    assert "open_store()" not in body and "PatientApp(store)" not in body  # code hidden
    assert "Traceback" not in body
    assert "cdn.jsdelivr.net" not in body  # backcare's template: no third-party stylesheets
    assert _store_counts(served_store) == before


def test_lab_refuses_requests_without_the_token_and_serves_the_notebooks_with_it(lab):
    status, headers, _ = get(lab.base + "/lab")
    assert status == 302 and "/login" in headers["location"]
    assert get(lab.base + "/api/contents")[0] == 403
    status, _, body = get(f"{lab.base}/api/contents/01_today.ipynb?token={lab.token}&content=0")
    assert status == 200 and '"01_today.ipynb"' in body


# ---- `backcare app` and `backcare lab` as a person starts them ----------------------------
def _port_token(url: str) -> tuple[int, str]:
    parts = urlsplit(url)
    return int(parts.port or 0), parse_qs(parts.query)["token"][0]


def _cmdlines(pids: list[int]) -> str:
    out = []
    for pid in pids:
        try:
            out.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))
        except OSError:
            pass
    return "\n".join(out)


def _stop_and_collect(cli, tree, how: int = signal.SIGTERM) -> list[int]:
    """SIGTERM backcare as a service manager would (or SIGINT, as Ctrl-C in its terminal); the
    processes of tree left 10 s after it exited (it must exit within 60 s)."""
    cli.proc.send_signal(how)
    try:
        assert cli.proc.wait(timeout=60) == 0
    finally:
        deadline = time.monotonic() + 10
        while alive(tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = alive(tree)
        for pid in left:  # leave nothing running whatever the outcome
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    return left


def test_the_app_moves_off_a_busy_default_port_keeps_its_token_secret_and_stops_whole(tmp_path):
    import socket

    store = make_store(tmp_path / "store.db")
    with socket.socket() as busy:  # another Jupyter on the default port
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        cli = start_cli(["app"], db_url=store, log=tmp_path / "app.log", default_port=taken)
        try:
            port, token = _port_token(cli.url)
            assert port > taken and cli.url == f"http://127.0.0.1:{port}/?token={token}"
            # answering already when the URL is printed, and it is our server: the token works
            assert servers.probe(port, token) == 404
            assert servers.probe(port, "wrong-token") == 403
            status, _, body = get(cli.url, timeout=180)  # a page load: starts a kernel
            assert status == 200 and "application/vnd.jupyter.widget-view+json" in body
            tree = process_tree(cli.proc.pid)
            assert len(tree) >= 3  # backcare, voila, the page's kernel
            assert token not in _cmdlines([pid for pid, _ in tree])
        except BaseException:
            cli.proc.kill()
            raise
        left = _stop_and_collect(cli, tree)
    assert left == [], cli.log.read_text()[-2000:]
    log = cli.log.read_text()
    assert "GET /?token=" in log or "token=" in log  # the page load was logged ...
    assert token not in log  # ... with the token masked


def test_lab_given_a_taken_port_refuses_in_one_line(tmp_path):
    import socket

    store = make_store(tmp_path / "store.db")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with pytest.raises(RuntimeError, match="exited with 2") as info:
            start_cli(["lab", "--port", str(taken)], db_url=store, log=tmp_path / "lab.log")
    assert f"backcare: error: --port: {taken} is in use" in str(info.value)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_lab_stops_with_its_kernels_on_sigterm_and_ctrl_c(tmp_path, how):
    store = make_store(tmp_path / "store.db")
    folder = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", folder)
    cli = start_cli(["lab"], db_url=store, log=tmp_path / "lab.log", default_port=free_port())
    try:
        port, token = _port_token(cli.url)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/api/kernels", body="{}", headers={"Authorization": f"token {token}"})
        assert conn.getresponse().status == 201  # a kernel, as opening a notebook starts
        conn.close()
        deadline = time.monotonic() + 30
        while len(process_tree(cli.proc.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        tree = process_tree(cli.proc.pid)
        assert len(tree) >= 3  # backcare, jupyterlab, the kernel
        assert token not in _cmdlines([pid for pid, _ in tree])
    except BaseException:
        cli.proc.kill()
        raise
    assert _stop_and_collect(cli, tree, how) == [], cli.log.read_text()[-2000:]
