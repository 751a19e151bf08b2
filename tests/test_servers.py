"""`backcare lab` and `backcare app`: 127.0.0.1 only, a token required, the full URL printed.

The last tests start real servers (no browser) and check that a request without the token
is refused while one with it gets the page."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from backcare import servers
from backcare.errors import BackcareError
from backcare.servers import app_command, app_url, free_port, lab_command, new_token, server_env
from backcare.store import open_store
from tests.support import ROOT
from tests.support.servers import get, make_store, start_server, stop_server


def test_lab_command_binds_localhost_with_a_token_and_no_port_retries():
    cmd = lab_command(8123, "tok", Path("notebooks"))
    assert "--ip=127.0.0.1" in cmd and "--port=8123" in cmd
    assert "--ServerApp.port_retries=0" in cmd and "--IdentityProvider.token=tok" in cmd
    assert "--no-browser" in cmd
    assert ("--allow-root" in cmd) == (os.geteuid() == 0)


def test_app_command_serves_the_checklist_with_voila_code_hidden_and_a_token():
    cmd = app_command(8124, "tok")
    assert cmd[1:4] == ["-m", "voila", str(ROOT / "backcare" / "notebooks" / "01_today.ipynb")]
    for arg in (
        "--Voila.ip=127.0.0.1",
        "--Voila.port=8124",
        "--Voila.port_retries=0",
        "--Voila.token=tok",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--no-browser",
        "--VoilaConfiguration.template=backcare",
    ):
        assert arg in cmd


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
def test_run_prints_the_full_url_with_the_token(which, monkeypatch, capsys, tmp_path):
    calls = []
    monkeypatch.setattr(servers, "_serve", lambda cmd, env: calls.append((cmd, env)) or 0)
    monkeypatch.setenv("BACKCARE_TOKEN", "s3cret-token")
    monkeypatch.chdir(ROOT)
    run = servers.run_lab if which == "lab" else servers.run_app
    assert run(9999) == 0
    out = capsys.readouterr().out
    path = "/lab" if which == "lab" else "/"
    assert f"http://127.0.0.1:9999{path}?token=s3cret-token" in out
    cmd, env = calls[0]
    assert any("s3cret-token" in a for a in cmd)
    assert env["BACKCARE_DB"].startswith("sqlite:////") or "://" in env["BACKCARE_DB"]


def test_ctrl_c_stops_the_server_cleanly(monkeypatch):
    class FakeServer:
        def __init__(self, cmd, env):
            self.signals, self.waits = [], 0

        def wait(self, timeout=None):
            self.waits += 1
            if self.waits == 1:
                raise KeyboardInterrupt  # the user pressed Ctrl-C while the server ran
            return 0

        def terminate(self):
            self.signals.append("TERM")

        def kill(self):
            self.signals.append("KILL")

    made = []
    monkeypatch.setattr(
        servers.subprocess, "Popen", lambda cmd, env: made.append(FakeServer(cmd, env)) or made[-1]
    )
    assert servers._serve(["x"], {}) == 0
    assert made[0].signals == ["TERM"]  # a clean stop, no kill needed


def test_sigterm_stops_the_server_cleanly_and_the_handler_is_put_back(monkeypatch):
    class FakeServer:
        def __init__(self, cmd, env):
            self.signals, self.waits = [], 0

        def wait(self, timeout=None):
            self.waits += 1
            if self.waits == 1:
                os.kill(os.getpid(), signal.SIGTERM)  # a service manager stops `backcare app`
                time.sleep(1)  # the handler runs here
                raise AssertionError("SIGTERM did not interrupt the wait")
            return 0

        def terminate(self):
            self.signals.append("TERM")

        def kill(self):
            self.signals.append("KILL")

    made = []
    monkeypatch.setattr(
        servers.subprocess, "Popen", lambda cmd, env: made.append(FakeServer(cmd, env)) or made[-1]
    )
    before = signal.getsignal(signal.SIGTERM)
    assert servers._serve(["x"], {}) == 0
    assert made[0].signals == ["TERM"] and made[0].waits == 2  # passed on, then waited for
    assert signal.getsignal(signal.SIGTERM) is before


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
        app_command(port, token),
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
        lab_command(port, token, ROOT / "notebooks"),
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
    assert "Today&#39;s exercises" in body or "Today's exercises" in body
    assert "application/vnd.jupyter.widget-view+json" in body  # the checklist widget was displayed
    assert "open_store()" not in body and "TodayView(store)" not in body  # code hidden
    assert "Traceback" not in body
    assert "cdn.jsdelivr.net" not in body  # backcare's template: no third-party stylesheets
    assert _store_counts(served_store) == before


def test_lab_refuses_requests_without_the_token_and_serves_the_notebooks_with_it(lab):
    status, headers, _ = get(lab.base + "/lab")
    assert status == 302 and "/login" in headers["location"]
    assert get(lab.base + "/api/contents")[0] == 403
    status, _, body = get(f"{lab.base}/api/contents/01_today.ipynb?token={lab.token}&content=0")
    assert status == 200 and '"01_today.ipynb"' in body
