"""`backcare hub`: start JupyterHub for the clinic on 127.0.0.1 and print its URL once the hub
answers through its proxy.

Before the hub starts: the hub's folder is made owner-only; the store (BACKCARE_DB) is opened
and upgraded (on PostgreSQL: row-level security set up, every account's role given its
privileges again and its login closed: no server is running yet); configurable-http-proxy is
found (the set-up's node_modules, else PATH); a fresh token for the "backcare" service is
written owner-only."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backcare.errors import BackcareError
from backcare.hub import config as C
from backcare.hub.folder import ensure_dir, hub_dir
from backcare.owner_only import write_private
from backcare.servers import (
    _forward_log,
    _interrupt,
    choose_port,
    free_port,
    new_token,
    server_env,
    stop,
)

HUB_PORT = 8000  # JupyterHub's own default
CONFIG_FILE = Path(__file__).resolve().parent / "jupyterhub_config.py"


def prepare_store(url: str) -> None:
    """Open (create or upgrade) the clinic store; on PostgreSQL re-apply row-level security,
    re-grant every account's role and close every role's login (no server runs yet)."""
    from backcare.store import open_store
    from backcare.store import row_security as R

    with open_store(url) as store:
        if store.is_sqlite:
            return
        with store.transaction() as conn:
            R.apply(conn)
            for role, kind, _ in R.mapped_roles(conn):
                R.grant(conn, role, kind)
                R.close_login(conn, role)


def hub_command() -> list[str]:
    """The argv that starts JupyterHub with backcare's configuration."""
    return [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG_FILE)]


def hub_answers(port: int, timeout: float = 5.0) -> bool:
    """True when the hub's API answers 200 on 127.0.0.1:port (the hub's own port, or the
    proxy's once it routes to the hub)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/hub/api/")
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def hub_env(
    port: int, environ: Mapping[str, str] | None = None, *, idle_timeout: int | None = None
) -> dict[str, str]:
    """The hub's environment: the store's URL made absolute, the hub's folder, its ports."""
    env = server_env(dict(os.environ if environ is None else environ))
    env[C.PORT_ENV] = str(port)
    env[C.HUB_PORT_ENV] = str(free_port())
    env[C.PROXY_API_PORT_ENV] = str(free_port())
    env["BACKCARE_HUB_DIR"] = str(hub_dir(env))
    if idle_timeout is not None:
        env[C.IDLE_TIMEOUT_ENV] = str(idle_timeout)
    return env


def run_hub(
    port: object | None = None,
    *,
    idle_timeout: int | None = None,
    timeout: float = 120.0,
    log: Any = None,
) -> int:
    """Run the hub in the foreground until Ctrl-C or SIGTERM; return its exit code."""
    out = sys.stderr if log is None else log
    import importlib.util

    for module in ("jupyterhub", "jupyterhub_idle_culler"):
        if importlib.util.find_spec(module) is None:
            raise BackcareError(
                f"{module} is not installed: pip install 'backcare[hub]' (JupyterHub, "
                "jupyterhub-idle-culler, argon2-cffi)"
            )
    chosen = choose_port(port, HUB_PORT)
    env = hub_env(chosen, idle_timeout=idle_timeout)
    folder = ensure_dir(Path(env["BACKCARE_HUB_DIR"]))
    C.proxy_command()  # a one-line error before anything starts
    prepare_store(env["BACKCARE_DB"])
    write_private(folder / C.SERVICE_TOKEN, new_token().encode())
    proc: subprocess.Popen[bytes] | None = None
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread
        previous = None
    try:
        proc = subprocess.Popen(
            hub_command(),
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=_forward_log, args=(proc.stdout, "", out), daemon=True).start()
        deadline = time.monotonic() + timeout
        # the hub's own port first (asking the proxy before it routes to the hub only fills
        # its log with errors), then the public port through the proxy
        internal = int(env[C.HUB_PORT_ENV])
        while not (hub_answers(internal) and hub_answers(chosen)):
            if proc.poll() is not None:
                raise BackcareError(
                    f"the hub stopped at start (exit code {proc.returncode}); see its log above"
                )
            if time.monotonic() > deadline:
                raise BackcareError(
                    f"the hub did not answer on port {chosen} within {timeout:.0f} s"
                )
            time.sleep(0.25)
        print(f"backcare: the clinic's hub on http://127.0.0.1:{chosen}/", flush=True)
        print(
            "backcare: log in with an account (`backcare account add`); press Ctrl-C to stop.",
            flush=True,
        )
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc is not None:
            stop(proc, grace=30)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
