"""Start a local server (JupyterLab or Voila), wait until it answers, stop it.

Used by tests/test_servers.py, tests/test_wheel.py and tests/e2e. A server runs in its own
process group so that stopping it also stops the kernels it started; its output goes to a log
file that is shown when it fails to start."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from backcare.servers import server_env, token_env, write_token_file
from backcare.store import open_store
from tests.support import ROOT
from tests.support.stores import add_default_patient


@dataclass
class Server:
    """A running server: its process, base URL (no token), token and log file."""

    proc: subprocess.Popen
    base: str
    token: str
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def get(
    url: str, timeout: float = 30.0, cookie: str | None = None
) -> tuple[int, dict[str, str], str]:
    """GET url without following redirects: (status, headers, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", errors="replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def make_store(path: Path, name: str = "Sam Example", timezone: str = "Europe/London") -> str:
    """A fresh SQLite store with one patient on the default programme; return its URL."""
    url = f"sqlite:///{path}"
    with open_store(url) as store:
        add_default_patient(store, "sam", name, timezone)
    return url


def quiet_jupyter_env(env: dict[str, str], home: Path) -> dict[str, str]:
    """env with Jupyter's settings, workspaces, runtime files and IPython's profile under home
    (never $HOME), JupyterLab's news pop-up and autosave off."""
    env = dict(env)
    for var, sub in (
        ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    quiet = (
        home
        / "settings"
        / "@jupyterlab"
        / "apputils-extension"
        / "notification.jupyterlab-settings"
    )
    quiet.parent.mkdir(parents=True, exist_ok=True)
    quiet.write_text(
        '{"fetchNews": "false", "checkForUpdates": false}'
    )  # no news pop-up over the page
    docs = home / "settings" / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text('{"autosave": false}')  # a test never saves a notebook
    return env


def start_server(
    cmd: list[str],
    *,
    db_url: str,
    token: str,
    port: int,
    ready_path: str,
    log: Path,
    timeout: float = 90.0,
    extra_env: dict[str, str] | None = None,
) -> Server:
    """Start cmd (from the project root, BACKCARE_DB=db_url, plus extra_env) and wait until
    ready_path answers.

    The token reaches the server as `backcare app` and `backcare lab` pass it: in an owner-only
    file named by JUPYTER_TOKEN_FILE, never on the command line. ready_path is polled with the
    token; any HTTP answer below 500 means the server is up."""
    env = server_env({**os.environ, "BACKCARE_DB": db_url}, cwd=ROOT)
    env = quiet_jupyter_env(env, log.parent / "jupyter-home")
    env.pop("BACKCARE_PATIENT", None)
    env.pop("BACKCARE_APP", None)
    env.update(extra_env or {})
    secrets = log.parent / f"{log.stem}-secrets"
    secrets.mkdir(mode=0o700)
    env = token_env(env, write_token_file(token, secrets))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return launch(
        cmd,
        cwd=ROOT,
        env=env,
        token=token,
        port=port,
        ready_path=ready_path,
        log=log,
        timeout=timeout,
    )


def launch(
    cmd: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    token: str,
    port: int,
    ready_path: str,
    log: Path,
    timeout: float = 90.0,
) -> Server:
    """Start cmd in cwd with exactly env, in its own process group, and wait until ready_path
    answers (polled with the token; any HTTP answer below 500 means the server is up)."""
    out = open(log, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    out.close()
    server = Server(proc, f"http://127.0.0.1:{port}", token, log)
    deadline = time.monotonic() + timeout
    sep = "&" if "?" in ready_path else "?"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            status, _, _ = get(f"{server.base}{ready_path}{sep}token={token}", timeout=5)
            if status < 500:
                return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(f"server not ready after {timeout:.0f} s:\n{server.log_tail()}")
        time.sleep(0.25)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a process of another user took the id
        return True
    return True


def stop_server(server: Server, timeout: float = 20.0) -> bool:
    """Stop the server politely (SIGTERM, it shuts its kernels down), then its whole group.

    True when the stop was clean: the server exited by itself and, within a few seconds,
    left nothing running in its process group."""
    proc = server.proc
    clean = True
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            clean = False
    deadline = time.monotonic() + 5
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _group_alive(proc.pid):
        clean = False
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # leftovers of this group only (kernels)
        except (ProcessLookupError, PermissionError):
            pass
    if proc.poll() is None:
        proc.wait(timeout=5)
    return clean


@contextmanager
def app_for_cells(cells: list[str], db_url: str, folder: Path) -> Iterator[Server]:
    """A notebook of these code cells, written to folder and served by Voila exactly as
    `backcare app` serves its notebook (127.0.0.1, a free port, a fresh token)."""
    import nbformat

    from backcare.servers import app_command, free_port, new_token

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    path = folder / "cells.ipynb"
    nbformat.write(nb, path)
    port, token = free_port(), new_token()
    server = start_server(
        app_command(port, path),
        db_url=db_url,
        token=token,
        port=port,
        ready_path="/login",
        log=folder / "voila.log",
    )
    try:
        yield server
    finally:
        stop_server(server)


@dataclass
class Cli:
    """`backcare app` or `backcare lab` running as a user starts it: its process, the URL it
    printed, the time that line came, and its log (stderr)."""

    proc: subprocess.Popen
    url: str
    log: Path


def start_cli(
    args: list[str],
    *,
    db_url: str,
    log: Path,
    default_port: int | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> Cli:
    """Run `backcare ARGS` (from the project root, BACKCARE_DB=db_url) in its own session and
    wait for the URL line it prints; default_port replaces APP_PORT/LAB_PORT (so a test can
    make "the default port" one it holds). RuntimeError with its log if it exits first."""
    import threading

    env = server_env({**os.environ, "BACKCARE_DB": db_url}, cwd=ROOT)
    env = quiet_jupyter_env(env, log.parent / "jupyter-home")
    for var in ("BACKCARE_PATIENT", "BACKCARE_APP", "BACKCARE_TOKEN", "JUPYTER_TOKEN"):
        env.pop(var, None)
    env.update(extra_env or {})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    if default_port is not None:
        code = (
            "import sys; import backcare.servers as s; "
            "s.APP_PORT = s.LAB_PORT = int(sys.argv[1]); "
            "from backcare.cli import main; sys.exit(main(sys.argv[2:]))"
        )
    else:
        code = "import sys; from backcare.cli import main; sys.exit(main(sys.argv[2:]))"
    cmd = [sys.executable, "-c", code, str(default_port or ""), *args]
    err = open(log, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=err,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    err.close()
    found: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            if "http://127.0.0.1:" in line and not found:
                found.append(line[line.index("http://") :].strip())

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found:
        if proc.poll() is not None and not found:
            raise RuntimeError(f"backcare exited with {proc.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise RuntimeError(f"no URL after {timeout:.0f} s:\n{log.read_text()}")
        time.sleep(0.05)
    return Cli(proc, found[0], log)


def process_tree(pid: int) -> list[tuple[int, int]]:
    """(pid, start time) of pid and every process below it."""
    from backcare.servers import _proc_stat, descendants

    stat = _proc_stat(pid)
    return ([(pid, stat[1])] if stat else []) + descendants(pid)


def alive(tree: list[tuple[int, int]]) -> list[int]:
    """The processes of tree still running (same pid and start time)."""
    from backcare.servers import _proc_stat

    out = []
    for pid, started in tree:
        stat = _proc_stat(pid)
        if stat is not None and stat[1] == started:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":  # a zombie is already gone, only not yet reaped
                out.append(pid)
    return out


def kernel_pids(pid: int) -> list[int]:
    """The kernels running below the server pid (its process tree, Linux /proc)."""
    from backcare.servers import descendants

    found = []
    for child, _ in descendants(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"ipykernel_launcher" in cmdline:
            found.append(child)
    return found


def wait_until(check, *, limit: float = 120.0, every: float = 0.25) -> bool:
    """Poll check() until it is true (True) or limit seconds have passed (False)."""
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def wait_idle(pid: int, *, quiet: float = 2.0, limit: float = 240.0) -> None:
    """Wait until pid and its process tree have used almost no CPU for quiet seconds (a server
    whose kernel pool has finished its start-up), at most limit seconds."""
    from backcare.servers import descendants

    def ticks() -> int:
        total = 0
        for p in [pid, *(c for c, _ in descendants(pid))]:
            try:
                text = Path(f"/proc/{p}/stat").read_text()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])
        return total

    hz = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + limit
    last, quiet_since = ticks(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < quiet:
        time.sleep(0.25)
        now = ticks()
        if now - last > 0.05 * hz:  # more than a twentieth of a CPU-second in a quarter second
            quiet_since = time.monotonic()
        last = now
