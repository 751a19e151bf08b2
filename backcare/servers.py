"""Start JupyterLab and the Voila app bound to 127.0.0.1 with a token, printing the full URL.

The app serves the checklist notebook shipped inside the package (backcare.resources), so it
works from any folder. JupyterLab opens ./notebooks, else a checkout's notebooks/, else (an
installed backcare run elsewhere for the first time) ./notebooks filled with the packaged ones.
Both servers start kernels in a notebooks folder, so the store and catalog paths are made
absolute (server_env) before they start: `data/backcare.db` then means the data folder of
the directory you started from, not notebooks/data."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from backcare.errors import BackcareError, ValidationError
from backcare.resources import APP_NOTEBOOK, checkout_notebooks, packaged_notebooks

NOTEBOOKS = Path("notebooks")  # what JupyterLab opens, relative to the working directory
LAB_PORT = 8888
APP_PORT = 8866
# Jupyter's own convention (ServerApp.port_retries defaults to 50): a taken default port moves
# on to the next free one. A port the user asked for with --port never moves.
PORT_RETRIES = 50
APP_TEMPLATE = "backcare"  # Voila's lab template minus third-party stylesheets (see JUPYTER_DATA)
JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter"
PATIENT_ENV = "BACKCARE_PATIENT"  # the patient the app shows (same name as backcare.ui.today's)
PRIVATE_ENV = "BACKCARE_APP"  # "1" in the app's kernels: the checklist never lists patients
TOKEN_FILE_ENV = "JUPYTER_TOKEN_FILE"  # read once by jupyter_server's IdentityProvider
# The app keeps APP_POOL_SIZE kernels started ahead (Voila's preheat_kernel), each having run the
# checklist notebook up to wait_for_page(): a page takes one at once and Voila starts its
# replacement. Each kernel holds about 165 MB, so one, for the one person a laptop's app serves.
APP_POOL_SIZE = 1
# A kernel whose page has gone without shutting it down (a phone closing the tab, a crash) is
# shut down once it has had no page connected and no activity for APP_CULL_IDLE_S; the culler
# looks every APP_CULL_INTERVAL_S. Kernels kept ahead in the pool are never culled.
APP_CULL_IDLE_S = 600
APP_CULL_INTERVAL_S = 60
# Seconds Voila waits, after handing the kept kernel to a page, before starting the next one
# (Voila's default: 1): starting a kernel and importing backcare takes a core for several
# seconds, which the page needs first (the server sends it Voila's JavaScript, the browser
# draws the checklist). A reload within this delay plus a kernel's start waits for the next.
APP_FILL_DELAY_S = 10.0
# A kernel id no server holds: asked for with the token, our server answers 404 (token
# accepted, no such kernel); another server on the port answers 403 (token refused).
PROBE_PATH = "/api/kernels/00000000-0000-0000-0000-000000000000"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:port right now."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_port(value: object) -> int:
    """value (an int or the text of one) as a TCP port; ValidationError unless 1..65535."""
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]{1,5}", text) or not 1 <= int(text) <= 65535:
        raise ValidationError("--port", value, "a whole number from 1 to 65535")
    return int(text)


def choose_port(asked: object | None, default: int) -> int:
    """The port to serve on: asked (validated, refused with a one-line error when taken), else
    default or, when that is taken, the next free one of the PORT_RETRIES after it."""
    if asked is not None:
        port = check_port(asked)
        if not port_is_free(port):
            raise BackcareError(
                f"--port: {port} is in use by another program; choose another port, or leave "
                f"--port out to use the first free one from {default}"
            )
        return port
    for port in range(default, min(default + PORT_RETRIES, 65535) + 1):
        if port_is_free(port):
            return port
    raise BackcareError(
        f"ports {default} to {default + PORT_RETRIES} are all in use; choose one with --port"
    )


def new_token() -> str:
    """A random access token for a local server."""
    return secrets.token_urlsafe(24)


def masked(token: str) -> str:
    """What a log line shows of a token: its first 4 characters."""
    return token[:4] + "..." if token else ""


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_command(port: int, notebook_dir: Path) -> list[str]:
    """The argv that starts JupyterLab on 127.0.0.1:port, rooted at notebook_dir.

    The token is not on it (any user can read a command line with `ps`): the server reads it
    from the owner-only file named by JUPYTER_TOKEN_FILE (token_env)."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--no-browser",
        f"--ServerApp.root_dir={notebook_dir}",
    ]
    if _as_root():
        cmd.append("--allow-root")
    return cmd


def app_command(
    port: int,
    notebook: Path | None = None,
    *,
    pool_size: int = APP_POOL_SIZE,
    cull_idle_s: int = APP_CULL_IDLE_S,
    cull_interval_s: int = APP_CULL_INTERVAL_S,
    fill_delay_s: float = APP_FILL_DELAY_S,
) -> list[str]:
    """The argv that serves notebook (default: the packaged checklist) with Voila on
    127.0.0.1:port, code hidden, token required, pool_size kernels kept ready (0: none, each
    page then starts its own; a page's replacement started fill_delay_s after it took one),
    idle kernels without a page culled after cull_idle_s.

    The token is not on it: with auto_token Voila's identity provider (jupyter_server 2) reads
    it from the file named by JUPYTER_TOKEN_FILE (token_env), and refuses requests without
    it (redirect to its login page, 403 for the API); tests/test_servers.py checks that. Its
    subclass backcare.voila_app.AppIdentityProvider also gives the page its XSRF cookie, which
    the page's shutdown request on leaving needs."""
    notebook = notebook or APP_NOTEBOOK
    pool = (
        [
            "--VoilaConfiguration.preheat_kernel=True",
            f"--VoilaConfiguration.default_pool_size={pool_size}",
            f"--VoilaKernelManager.fill_delay={fill_delay_s}",
        ]
        if pool_size > 0
        else []
    )
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        "--Voila.auto_token=True",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        f"--VoilaConfiguration.template={APP_TEMPLATE}",
        "--theme=light",
        "--Voila.identity_provider_class=backcare.voila_app.AppIdentityProvider",
        *pool,
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_s}",
        f"--MappingKernelManager.cull_interval={cull_interval_s}",
    ]


def _preheating() -> bool:
    """Whether this kernel is one Voila started ahead of its page (preheat_kernel)."""
    return os.environ.get("VOILA_PREHEAT") == "True"


def wait_for_page() -> None:
    """In a kernel `backcare app` started ahead of time: wait until a page takes it, so that the
    cells after this one read the store as it is when the page opens (a session saved a moment
    ago shows). Anywhere else (JupyterLab, a kernel started for a page) return at once."""
    if not _preheating():
        return
    from voila.utils import wait_for_request  # type: ignore[import-untyped]

    try:
        wait_for_request()
    except Exception as exc:  # noqa: BLE001 - the checklist shows anyway, read now
        print(f"backcare: not waiting for the page ({type(exc).__name__})", file=sys.stderr)


def _store_stamp(store: Any) -> tuple[int, ...] | None:
    """What changes whenever anyone writes to store: its SQLite file and write-ahead log's
    modification times and sizes; None for another database (no cheap stamp: read again)."""
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    stamp: list[int] = []
    for suffix in ("", "-wal"):
        try:
            st = os.stat(url.database + suffix)
        except OSError:
            stamp += [0, 0]
        else:
            stamp += [st.st_mtime_ns, st.st_size]
    return tuple(stamp)


def _live_widgets() -> dict[str, Any]:
    """ipywidgets' registry of the kernel's open widgets (model id -> widget)."""
    from ipywidgets.widgets import widget as registry

    return registry._instances


def _build_owned(build: Callable[[], Any]) -> tuple[Any, list[Any]]:
    """build(), and every widget it opened (attached to the page's tree or not yet, such as a
    Disclosure's panel content that joins the page only when opened)."""
    before = set(_live_widgets())
    view = build()
    return view, [w for k, w in list(_live_widgets().items()) if k not in before]


def _close_widgets(view: Any, owned: Iterable[Any] = ()) -> None:
    """Close every widget of view (its .widget, all widgets inside it, and owned: the ones its
    build opened) in the kernel, so that none of them reaches the page."""
    import ipywidgets as W

    todo = [getattr(view, "widget", view), *owned]
    seen: set[int] = set()
    while todo:
        w = todo.pop()
        if not isinstance(w, W.Widget) or id(w) in seen:
            continue
        seen.add(id(w))
        for name in w.keys:
            value = getattr(w, name, None)
            todo.extend(value if isinstance(value, list | tuple) else [value])
        w.close()


def _view_is_current(view: Any) -> bool:
    """False when view shows a day that is no longer today (it was built before midnight).
    A view without a day (day and local_today()) is always current."""
    if not (hasattr(view, "day") and hasattr(view, "local_today")):
        return True
    try:
        return view.day is None or view.day == view.local_today()
    except Exception:  # noqa: BLE001 - no patient or an unreadable store: build it again
        return False


def ready_for_page(build: Callable[[], Any], store: Any, poll_s: float = 2.0) -> Any:
    """build() (a view of store, such as TodayView(store)), kept up to date for the page.

    In a kernel `backcare app` started ahead of time, the view is built at once (the page then
    gets it without waiting for a read) and, until a page takes the kernel, built again
    whenever the store is written (checked every poll_s seconds; on SQLite, by its files'
    times) or the day it shows is over; once more, after the page came, if anything changed
    since the last check. Anywhere else (JupyterLab, a kernel started for a page) it is
    build(), nothing more."""
    if not _preheating():
        return build()
    view, owned = _build_owned(build)
    arrived = threading.Event()

    def wait() -> None:
        try:
            wait_for_page()
        finally:
            arrived.set()

    threading.Thread(target=wait, daemon=True).start()
    stamp = _store_stamp(store)
    while not arrived.wait(poll_s):
        if stamp is not None and (_store_stamp(store) != stamp or not _view_is_current(view)):
            stamp = _store_stamp(store)
            _close_widgets(view, owned)
            view, owned = _build_owned(build)
    if stamp is None or _store_stamp(store) != stamp or not _view_is_current(view):
        _close_widgets(view, owned)
        view, _owned = _build_owned(build)
    return view


def write_token_file(token: str, folder: Path) -> Path:
    """Write token to an owner-only (0600) file in folder; return its path."""
    path = folder / "token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return path


def token_env(env: Mapping[str, str], token_file: Path) -> dict[str, str]:
    """env for a server that reads its token from token_file (never from the command line;
    JUPYTER_TOKEN, which kernels would inherit, removed)."""
    out = dict(env)
    out.pop("JUPYTER_TOKEN", None)
    out[TOKEN_FILE_ENV] = str(token_file)
    return out


def probe(port: int, token: str, timeout: float = 5.0) -> int | None:
    """The HTTP status 127.0.0.1:port answers to PROBE_PATH with token (sent in a header,
    never in a URL a log could show), or None when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", PROBE_PATH, headers={"Authorization": f"token {token}"})
        resp = conn.getresponse()
        resp.read()
        return int(resp.status)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


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


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks) of a live process (Linux /proc), else None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[19])


def descendants(pid: int) -> list[tuple[int, int]]:
    """(pid, start time) of every live process below pid: the server's kernels and helpers,
    whatever session they started in (Linux /proc; an empty list elsewhere)."""
    parents: dict[int, list[tuple[int, int]]] = {}
    try:
        entries = [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()]
    except OSError:
        return []
    for child in entries:
        stat = _proc_stat(child)
        if stat is not None:
            parents.setdefault(stat[0], []).append((child, stat[1]))
    found: list[tuple[int, int]] = []
    todo = [pid]
    while todo:
        for below in parents.get(todo.pop(), []):
            found.append(below)
            todo.append(below[0])
    return found


def _same_process_alive(pid: int, started: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[1] == started


def stop(proc: subprocess.Popen[bytes], *, grace: float = 20.0) -> None:
    """Stop a server started by serve() and everything it started.

    SIGTERM first (Jupyter and Voila then shut their kernels down), up to grace seconds; then
    whatever of its process tree is still running (a kernel in a session of its own, a
    helper) is terminated, then killed, so nothing is left behind as an orphan."""
    tree = descendants(proc.pid)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.kill()
            proc.wait()
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGTERM)  # its own group (start_new_session)
    left = [(pid, t) for pid, t in tree if _same_process_alive(pid, t)]
    for pid, _ in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [(pid, t) for pid, t in left if _same_process_alive(pid, t)]
    for pid, _ in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _forward_log(stream: Any, token: str, out: Any) -> None:
    """Copy the server's log to out line by line, the token masked wherever it appears."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace")
        if token:
            line = line.replace(token, masked(token))
        out.write(line)
        out.flush()
    stream.close()


def _wait_ready(proc: subprocess.Popen[bytes], port: int, token: str, timeout: float) -> bool:
    """True once our server answers on port with our token accepted (probe's 404); False if it
    exits first. BackcareError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if probe(port, token, timeout=5) == 404:
            return True
        if time.monotonic() > deadline:
            raise BackcareError(f"the server did not answer on port {port} within {timeout:.0f} s")
        time.sleep(0.2)
    return False


def serve(
    command: Callable[[int], list[str]],
    env: Mapping[str, str],
    *,
    token: str,
    port: object | None,
    default_port: int,
    announce: Callable[[int], list[str]],
    timeout: float = 180.0,
    grace: float = 20.0,
    log: Any = None,
) -> int:
    """Run a server in the foreground until it ends, Ctrl-C or SIGTERM; return its exit code
    (0 after a stop asked for).

    port is what the user asked for (refused when it is bad or taken), else default_port or
    the next free one. The token reaches the server in an owner-only file (JUPYTER_TOKEN_FILE),
    deleted once the server answers; the server's log is copied to log (default stderr) with
    the token masked. The lines of announce(port) (the URL) are printed only once the server
    answers on that port with the token accepted."""
    out = sys.stderr if log is None else log
    folder = Path(tempfile.mkdtemp(prefix="backcare-"))  # owner-only
    proc: subprocess.Popen[bytes] | None = None
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread: signals stay as they are
        previous = None
    try:
        token_file = write_token_file(token, folder)
        server_environ = token_env(env, token_file)
        chosen = choose_port(port, default_port)
        while True:
            proc = subprocess.Popen(
                command(chosen),
                env=server_environ,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches backcare, which stops it properly
            )
            threading.Thread(
                target=_forward_log, args=(proc.stdout, token, out), daemon=True
            ).start()
            if _wait_ready(proc, chosen, token, timeout):
                break
            code = proc.wait()
            if port is None and not port_is_free(chosen):  # taken meanwhile: the next one
                chosen = choose_port(None, chosen + 1)
                continue
            raise BackcareError(
                f"the server stopped at start (exit code {code}); see its log above"
            )
        token_file.unlink()  # read once at start; kernels inherit only the name of a gone file
        for line in announce(chosen):
            print(line, flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc is not None:
            stop(proc, grace=grace)
        shutil.rmtree(folder, ignore_errors=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _token() -> str:
    return os.environ.get("BACKCARE_TOKEN") or new_token()


def run_lab(port: object | None = None, notebook_dir: Path | None = None) -> int:
    """Run JupyterLab in the foreground until Ctrl-C or SIGTERM; return its exit code."""
    if port is not None:
        check_port(port)
    folder = notebook_dir or find_notebooks()
    token = _token()
    env = server_env()
    _store_hint(env)
    return serve(
        lambda p: lab_command(p, folder),
        env,
        token=token,
        port=port,
        default_port=LAB_PORT,
        announce=lambda p: [
            f"backcare: JupyterLab on {lab_url(p, token)}",
            "backcare: open that URL in your browser; press Ctrl-C to stop.",
        ],
    )


def app_patient(env: Mapping[str, str], asked: str | None = None) -> str | None:
    """The one patient the app shows: asked (--patient, else $BACKCARE_PATIENT), else the
    store's only patient; None for a store with no patient yet (the app says how to add one).

    BackcareError for a patient the store does not hold, and for a store of several patients
    when none was asked for: the app never lists patients."""
    from backcare.store import open_store

    asked = asked or env.get(PATIENT_ENV, "").strip() or None
    db = env.get("BACKCARE_DB", "")
    if db.startswith("sqlite:///") and not Path(db[len("sqlite:///") :]).exists():
        if asked is not None:
            raise BackcareError(f"--patient: {asked!r} not found; there is no store at {db}")
        return None
    with open_store(db) as store:
        ids = [str(p) for p in store.patients()["patient_id"]]
    if asked is not None:
        if asked not in ids:
            raise BackcareError(
                f"--patient: {asked!r} not found; expected a patient of this store "
                "(`backcare patients` lists them)"
            )
        return asked
    if len(ids) <= 1:
        return ids[0] if ids else None
    raise BackcareError(
        f"this store holds {len(ids)} patients and the app shows one person's checklist: "
        f"start it with --patient ID (or {PATIENT_ENV}=ID); `backcare patients` lists the ids"
    )


def run_app(
    port: object | None = None, notebook: Path | None = None, patient: str | None = None
) -> int:
    """Serve one patient's checklist (app_patient) with Voila in the foreground until Ctrl-C or
    SIGTERM; return its exit code."""
    if port is not None:
        check_port(port)
    notebook = notebook or APP_NOTEBOOK
    if not notebook.is_file():
        raise BackcareError(f"{notebook}: notebook not found")
    env = server_env()
    chosen = app_patient(env, patient)
    _store_hint(env)
    env[PRIVATE_ENV] = "1"
    if chosen is not None:
        env[PATIENT_ENV] = chosen
    token = _token()
    who = f" for patient {chosen}" if chosen else ""
    return serve(
        lambda p: app_command(p, notebook),
        env,
        token=token,
        port=port,
        default_port=APP_PORT,
        announce=lambda p: [
            f"backcare: today's checklist{who} on {app_url(p, token)}",
            "backcare: open that URL in your browser (the token is required); "
            "press Ctrl-C to stop.",
        ],
    )
