"""Benchmark 8: time to a usable checklist in Chromium, backcare's app against plain Voila.

Measured in one run, in Debian's Chromium (Playwright), from the moment the browser is asked
to open the URL until the page is usable:

- backcare: `backcare app --patient demo-0001` exactly as a person starts it, on a demo store
  (20 patients x 120 days). Usable = the Save button and the first exercise's checkbox both
  visible and enabled (the widgets are drawn from the kernel's state, so the kernel answers).
- plain Voila: `voila` with its defaults (no pre-started kernel) on a one-cell notebook,
  `print("ready")`; usable = the cell's output visible. The same with one checkbox widget
  (`ipywidgets.Checkbox`; usable = visible and enabled) is printed beside it.
- reload: the app's page reloaded (the browser's cache warm, as a person reloading), and
  kernels alive after RELOADS quick reloads (each waits for a usable checklist; none waits for
  the server to settle): the pool, plus the page's own kernel, is what should be left.

Each first opening is in a fresh browser context (nothing cached) after the server has
settled (its processes idle: the app's pre-started kernel has run the notebook up to where it
waits for a page), as when a person opens the URL a little after starting the app. Medians of
REPEAT alternations. BENCH_APP_ROOT=DIR serves the app from another checkout's code (the
before/after figures of docs/performance.md: `git archive` of the older commit)."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backcare.servers import APP_FILL_DELAY_S  # noqa: E402 - after the path is set

PATIENT = "demo-0001"
REPEAT = int(os.environ.get("BENCH_APP_REPEAT", "3"))
RELOADS = int(os.environ.get("BENCH_APP_RELOADS", "5"))
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 180_000
VISIBLE = """e => !!e && !e.disabled && e.getClientRects().length > 0
                && getComputedStyle(e).visibility !== 'hidden'"""
USABLE_APP = f"""() => {{
  const usable = {VISIBLE};
  return usable(document.querySelector('button.backcare-save'))
      && usable(document.querySelector('.backcare-exercise input[type=checkbox]'));
}}"""
USABLE_PRINT = f"""() => {{
  const usable = {VISIBLE};
  return [...document.querySelectorAll('.jp-OutputArea-output')]
      .some(e => e.innerText.includes('ready') && usable(e));
}}"""
USABLE_WIDGET = f"""() => {{
  const usable = {VISIBLE};
  return usable(document.querySelector('.widget-checkbox input[type=checkbox]'));
}}"""


# ---- processes ----------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    from backcare.servers import descendants

    return [pid, *(p for p, _ in descendants(pid))]


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with suppress(OSError, IndexError, ValueError):
            text = Path(f"/proc/{pid}/stat").read_text()
            fields = text[text.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def kernels(pid: int) -> int:
    """How many kernels run below the server pid."""
    return sum("ipykernel_launcher" in _cmdline(p) for p in _tree(pid)[1:])


def rss_mb(pid: int) -> float:
    """Resident memory of the server pid and everything below it, MB."""
    total = 0
    for p in _tree(pid):
        with suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def settle(pid: int, quiet_s: float = 1.5, limit_s: float = 240.0) -> float:
    """Wait until the process tree of pid has used (almost) no CPU for quiet_s; return the wait."""
    t0 = time.monotonic()
    hz = os.sysconf("SC_CLK_TCK")
    last = _cpu_ticks(_tree(pid))
    quiet_since = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        time.sleep(0.25)
        now = _cpu_ticks(_tree(pid))
        if now - last > 0.05 * hz:  # more than a twentieth of a CPU-second in a quarter second
            quiet_since = time.monotonic()
        last = now
        if time.monotonic() - quiet_since >= quiet_s:
            break
    return time.monotonic() - t0


@contextmanager
def _server(cmd: list[str], env: dict[str, str], cwd: Path, log: Path):
    """Run cmd (its own session); yield (process, the first http://127.0.0.1 URL it prints)."""
    err = open(log, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
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
                found.append(line[line.index("http://") :].split()[0])

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + 180
        while not found:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[:4]} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield proc, found[0]
    finally:
        tree = _tree(proc.pid)
        with suppress(OSError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for pid in tree[1:]:
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _env(root: Path, home: Path, token: str) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("BACKCARE_PATIENT", "BACKCARE_APP", "JUPYTER_TOKEN", "BACKCARE_DB"):
        env.pop(var, None)
    env["BACKCARE_TOKEN"] = token
    env["PYTHONPATH"] = str(root)
    for var, sub in (("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    return env


def _one_cell(path: Path, source: str) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, path)
    return path


@contextmanager
def _plain(notebook: Path, folder: Path, env: dict[str, str]):
    """Voila with its defaults on notebook, on 127.0.0.1 with the token required (read from an
    owner-only file, as backcare passes it; never on a command line)."""
    from backcare.servers import free_port, token_env, write_token_file

    port = free_port()
    secrets = Path(tempfile.mkdtemp(dir=folder))
    server_env = token_env(env, write_token_file(env["BACKCARE_TOKEN"], secrets))
    voila = [sys.executable, "-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1"]
    voila += [f"--Voila.port={port}", "--Voila.port_retries=0", "--Voila.auto_token=True"]
    launcher = [sys.executable, "-c", _ANNOUNCE, str(port), *voila]
    with _server(launcher, server_env, folder, folder / f"{notebook.stem}.log") as served:
        yield served


# Start plain Voila, print its URL (token included) once it answers, then wait for it: the
# same announcement `backcare app` makes, so both are opened alike.
_ANNOUNCE = """
import os, signal, subprocess, sys, time
from backcare.servers import app_url, probe
port, cmd, token = int(sys.argv[1]), sys.argv[2:], os.environ["BACKCARE_TOKEN"]
p = subprocess.Popen(cmd)
signal.signal(signal.SIGTERM, lambda *_: p.terminate())
while probe(port, token) != 404:
    if p.poll() is not None:
        sys.exit(p.returncode)
    time.sleep(0.1)
print(app_url(port, token), flush=True)
sys.exit(p.wait())
"""


# ---- browser ------------------------------------------------------------------------------


def _open(browser, url: str, usable: str) -> tuple[float, object, object]:
    """Open url in a fresh context; (seconds until usable, the context, the page)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_function(usable, polling=25, timeout=TIMEOUT_MS)
    return time.perf_counter() - t0, context, page


def _reload(page, usable: str) -> float:
    t0 = time.perf_counter()
    page.reload(wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_function(usable, polling=25, timeout=TIMEOUT_MS)
    return time.perf_counter() - t0


def _demo_store(folder: Path, root: Path) -> str:
    url = f"sqlite:///{folder / 'store.db'}"
    subprocess.run(
        [sys.executable, "-m", "backcare.cli", "demo", "--patients", "20", "--days", "120"]
        + ["--db", url],
        check=True,
        capture_output=True,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    return url


def run() -> dict:
    from playwright.sync_api import sync_playwright

    from backcare.servers import new_token

    root = Path(os.environ.get("BENCH_APP_ROOT", ROOT)).resolve()
    out: dict[str, float | int | str] = {}
    app_open, app_reload, plain_print, plain_widget = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp, sync_playwright() as pw:
        folder = Path(tmp)
        os.chmod(folder, 0o700)
        db = _demo_store(folder, root)
        token = new_token()
        env = _env(root, folder / "home", token)
        env["BACKCARE_DB"] = db
        printed = _one_cell(folder / "plain_print.ipynb", 'print("ready")')
        widget = _one_cell(
            folder / "plain_widget.ipynb",
            'import ipywidgets\nipywidgets.Checkbox(description="ready")',
        )
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            app_cmd = [sys.executable, "-m", "backcare.cli", "app", "--patient", PATIENT]
            for _ in range(REPEAT):
                with _server(app_cmd, env, folder, folder / "app.log") as (proc, url):
                    settle(proc.pid)
                    seconds, context, page = _open(browser, url, USABLE_APP)
                    app_open.append(seconds)
                    time.sleep(APP_FILL_DELAY_S + 1)  # the next kernel starts, then settles
                    settle(proc.pid)
                    app_reload.append(_reload(page, USABLE_APP))
                    out["app memory with a page open MB"] = rss_mb(proc.pid)
                    out["app kernels with a page open"] = kernels(proc.pid)
                    context.close()
                for notebook, usable, times in (
                    (printed, USABLE_PRINT, plain_print),
                    (widget, USABLE_WIDGET, plain_widget),
                ):
                    with _plain(notebook, folder, env) as (proc, url):
                        settle(proc.pid)
                        seconds, context, _page = _open(browser, url, usable)
                        times.append(seconds)
                        context.close()
            with _server(app_cmd, env, folder, folder / "app.log") as (proc, url):
                settle(proc.pid)
                _seconds, context, page = _open(browser, url, USABLE_APP)
                quick = [_reload(page, USABLE_APP) for _ in range(RELOADS)]
                out[f"app: {RELOADS} quick reloads, median s"] = statistics.median(quick)
                deadline = time.monotonic() + 60
                while kernels(proc.pid) > 2 and time.monotonic() < deadline:
                    time.sleep(0.5)
                out[f"kernels alive after {RELOADS} reloads"] = kernels(proc.pid)
                context.close()
        finally:
            browser.close()
    o, r = statistics.median(app_open), statistics.median(plain_print)
    return {
        "app: open -> usable checklist s": o,
        "app: reload -> usable checklist s": statistics.median(app_reload),
        "plain Voila print cell s": r,
        "plain Voila checkbox cell s": statistics.median(plain_widget),
        "ratio app / plain print": o / r,
        "ratio app / plain checkbox": o / statistics.median(plain_widget),
        **out,
    }


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:<40} {v:>8.2f}" if isinstance(v, float) else f"{k:<40} {v:>8}")
