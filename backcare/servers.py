"""Start JupyterLab and the Voila app bound to 127.0.0.1 with a token, printing the full URL.

The app serves the checklist notebook shipped inside the package (backcare.resources), so it
works from any folder. JupyterLab opens ./notebooks, else a checkout's notebooks/, else (an
installed backcare run elsewhere for the first time) ./notebooks filled with the packaged ones.
Both servers start kernels in a notebooks folder, so the store and catalog paths are made
absolute (server_env) before they start: `data/backcare.db` then means the data folder of
the directory you started from, not notebooks/data."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from backcare.errors import BackcareError
from backcare.resources import APP_NOTEBOOK, checkout_notebooks, packaged_notebooks

NOTEBOOKS = Path("notebooks")  # what JupyterLab opens, relative to the working directory
LAB_PORT = 8888
APP_PORT = 8866
APP_TEMPLATE = "backcare"  # Voila's lab template minus third-party stylesheets (see JUPYTER_DATA)
JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_token() -> str:
    """A random access token for a local server."""
    return secrets.token_urlsafe(24)


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_command(port: int, token: str, notebook_dir: Path) -> list[str]:
    """The argv that starts JupyterLab on 127.0.0.1:port with token, rooted at notebook_dir."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--no-browser",
        f"--ServerApp.root_dir={notebook_dir}",
    ]
    if _as_root():
        cmd.append("--allow-root")
    return cmd


def app_command(port: int, token: str, notebook: Path | None = None) -> list[str]:
    """The argv that serves notebook (default: the packaged checklist) with Voila on
    127.0.0.1:port, code hidden, token required.

    Voila 0.5 (on jupyter_server 2) refuses requests without the token (redirect to its
    login page, 403 for the API); tests/test_servers.py checks that on a real server."""
    notebook = notebook or APP_NOTEBOOK
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        f"--Voila.token={token}",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        f"--VoilaConfiguration.template={APP_TEMPLATE}",
        "--theme=light",
    ]


def lab_url(port: int, token: str) -> str:
    """The URL that opens JupyterLab, token included."""
    return f"http://127.0.0.1:{port}/lab?token={token}"


def app_url(port: int, token: str) -> str:
    """The URL that opens the Voila app, token included (Voila's own log masks it)."""
    return f"http://127.0.0.1:{port}/?token={token}"


def _absolute_sqlite(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    path = url[len(prefix) :]
    if not path or path.startswith(("/", ":memory:")):
        return url
    return prefix + str((base / path).resolve())


def server_env(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> dict[str, str]:
    """The environment for a server: BACKCARE_DB and BACKCARE_CATALOG made absolute, and
    backcare's Voila template on JUPYTER_PATH.

    Kernels run in the notebooks folder; without this, the default store data/backcare.db
    would silently become notebooks/data/backcare.db, an empty store."""
    from backcare.domain.catalog import DEFAULT_USER_CATALOG
    from backcare.store import DEFAULT_PATH

    env = dict(os.environ if environ is None else environ)
    base = (cwd or Path.cwd()).resolve()
    db = env.get("BACKCARE_DB") or f"sqlite:///{DEFAULT_PATH}"
    env["BACKCARE_DB"] = _absolute_sqlite(db, base)
    catalog = env.get("BACKCARE_CATALOG")
    if catalog:
        env["BACKCARE_CATALOG"] = os.pathsep.join(
            str((base / p).resolve()) for p in catalog.split(os.pathsep) if p
        )
    elif (base / DEFAULT_USER_CATALOG).is_file():
        env["BACKCARE_CATALOG"] = str((base / DEFAULT_USER_CATALOG).resolve())
    paths = [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if str(JUPYTER_DATA) not in paths:
        env["JUPYTER_PATH"] = os.pathsep.join([str(JUPYTER_DATA), *paths])
    return env


def copy_notebooks(folder: Path) -> list[Path]:
    """Create folder (owner-only: saved notebooks can hold health data) with a copy of every
    packaged notebook; return the copies. Refuses a folder that already exists."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=False)
    copies = []
    for source in packaged_notebooks():
        copies.append(folder / source.name)
        shutil.copyfile(source, copies[-1])  # no copy of the package's own (maybe read-only) mode
    return copies


def find_notebooks(cwd: Path | None = None) -> Path:
    """The folder JupyterLab opens: ./notebooks if it exists, else the checkout's notebooks/
    (backcare run from a checkout), else ./notebooks newly filled with the packaged notebooks."""
    here = (cwd or Path.cwd()) / NOTEBOOKS
    if here.is_dir():
        return here
    checkout = checkout_notebooks()
    if checkout is not None:
        return checkout
    try:
        copies = copy_notebooks(here)
    except OSError as exc:
        raise BackcareError(
            f"{here}: cannot create the notebooks folder ({exc.strerror or exc})"
        ) from None
    print(
        f"backcare: copied {len(copies)} notebooks into {here} (first run here); they are yours "
        "to change: a newer backcare never overwrites them.",
        flush=True,
    )
    return here


def _store_hint(env: Mapping[str, str]) -> None:
    db = env.get("BACKCARE_DB", "")
    if db.startswith("sqlite:///") and not Path(db[len("sqlite:///") :]).exists():
        print(
            f"backcare: no store at {db[len('sqlite:///') :]} yet; fill one with "
            "`backcare demo` (or `make lab`), or add a patient from Python.",
            flush=True,
        )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve(cmd: list[str], env: dict[str, str], *, grace: float = 20.0) -> int:
    """Run the server in the foreground; on Ctrl-C or SIGTERM stop it cleanly (SIGTERM: it shuts
    its kernels down, without Jupyter's "Shutdown this server?" prompt), then return 0."""
    proc = subprocess.Popen(cmd, env=env)
    # A service manager stops `backcare app` with SIGTERM: pass it on instead of dying and
    # leaving the server and its kernels running.
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread: signals stay as they are
        previous = None
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.kill()
            proc.wait()
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def run_lab(port: int | None = None, notebook_dir: Path | None = None) -> int:
    """Run JupyterLab in the foreground until Ctrl-C; return its exit code."""
    port = port or LAB_PORT
    folder = notebook_dir or find_notebooks()
    token = os.environ.get("BACKCARE_TOKEN") or new_token()
    env = server_env()
    _store_hint(env)
    print(f"backcare: JupyterLab on {lab_url(port, token)}", flush=True)
    print("backcare: open that URL in your browser; press Ctrl-C to stop.", flush=True)
    return _serve(lab_command(port, token, folder), env)


def run_app(port: int | None = None, notebook: Path | None = None) -> int:
    """Serve today's checklist with Voila in the foreground until Ctrl-C; return its exit code."""
    port = port or APP_PORT
    notebook = notebook or APP_NOTEBOOK
    if not notebook.is_file():
        raise BackcareError(f"{notebook}: notebook not found")
    token = os.environ.get("BACKCARE_TOKEN") or new_token()
    env = server_env()
    _store_hint(env)
    print(f"backcare: today's checklist on {app_url(port, token)}", flush=True)
    print(
        "backcare: open that URL in your browser (the token is required); press Ctrl-C to stop.",
        flush=True,
    )
    return _serve(app_command(port, token, notebook), env)
