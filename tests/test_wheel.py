"""backcare installs anywhere: the built wheel, installed in a fresh virtual environment in an
empty folder outside the checkout, runs `backcare demo`, `backcare report`, `backcare app` and
`backcare lab` there, with nothing from the checkout on the path.

The dependencies come from the index pip is configured with (as for `make test`'s own set-up),
so this test needs that index; it fails rather than skips without it. It takes about two
minutes on a 2-core machine, half of it pip installing the dependencies (see the durations
that `make test` prints)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backcare.servers import free_port, new_token
from tests.support import ROOT
from tests.support.servers import get, launch, quiet_jupyter_env, stop_server

# `-m "not slow"` leaves it out; `make test` (and so .ci/run) runs it.
pytestmark = [pytest.mark.wheel, pytest.mark.slow]

# What a wheel is built from: the project minus the local environment, caches and test data.
NOT_BUILT_FROM = {
    ".git",
    ".venv",
    "build",
    "dist",
    "data",
    "tests",
    "benchmarks",
    "docs",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "node_modules",
}
PATIENTS, DAYS, END = 2, 14, dt.date(2026, 3, 1)


@dataclass
class Installed:
    """A wheel installed in a fresh environment, and the empty folder the commands run in."""

    wheel: Path
    env_dir: Path
    folder: Path
    environ: dict[str, str]
    demo: subprocess.CompletedProcess[str] | None = None  # `backcare demo`, run by the fixture

    def bin(self, name: str) -> str:
        return str(self.env_dir / "bin" / name)

    def run(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=self.folder,
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


def _copy_source(dest: Path) -> Path:
    """The project copied without NOT_BUILT_FROM at its top level (so a build never leaves
    build/ or *.egg-info in the checkout, nor picks up stale files from an earlier build)."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
        if Path(folder).resolve() == ROOT:
            skip |= NOT_BUILT_FROM & set(names)
        return skip

    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def _clean_environ(env_dir: Path, home: Path) -> dict[str, str]:
    """The environment of a new user of the installed package: its bin/ first on PATH, a HOME of
    its own, and nothing pointing at the checkout, the test store or another environment."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BACKCARE_", "JUPYTER", "PYTHON", "IPYTHON", "VIRTUAL_ENV", "CONDA"))
    }
    keep["PATH"] = os.pathsep.join([str(env_dir / "bin"), os.defpath])
    keep["HOME"] = str(home)
    return quiet_jupyter_env(keep, home / "jupyter")


def _check(proc: subprocess.CompletedProcess[str], what: str) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, (
        f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


def _refused(status: int, headers: dict[str, str]) -> bool:
    """Voila without the token: 401/403, or a redirect to its login page (never the app)."""
    return status in (401, 403) or (status == 302 and "/login" in headers.get("location", ""))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel").resolve()
    assert not base.is_relative_to(ROOT), "the test folder must lie outside the checkout"
    src = _copy_source(base / "src")
    _check(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--quiet",
                "-w",
                str(base / "dist"),
                str(src),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        ),
        "pip wheel",
    )
    (wheel,) = (base / "dist").glob("backcare-*.whl")
    env_dir = base / "env"
    venv.create(
        env_dir, with_pip=False, symlinks=True
    )  # no system site-packages: a clean environment
    # The test's own pip installs into the new environment (--python): same index and options.
    # --no-compile: bytecode is written on first import instead of for all ~150 packages.
    _check(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(env_dir / "bin" / "python"),
                "install",
                "--quiet",
                "--no-compile",
                str(wheel),
            ],
            capture_output=True,
            text=True,
            timeout=1800,
        ),
        "pip install",
    )
    folder = base / "empty folder"
    folder.mkdir()
    home = base / "home"
    home.mkdir()
    environ = _clean_environ(env_dir, home)
    site = Installed(wheel, env_dir, folder, environ)
    site.demo = site.run(
        site.bin("backcare"),
        "demo",
        "--patients",
        str(PATIENTS),
        "--days",
        str(DAYS),
        "--end",
        END.isoformat(),
    )
    yield site
    shutil.rmtree(base, ignore_errors=True)  # the environment is about 700 MB


def test_the_wheel_holds_the_notebooks_the_catalog_and_the_app_template(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for name in (
        "backcare/notebooks/01_today.ipynb",
        "backcare/notebooks/04_patient_report.ipynb",
        "backcare/data/catalog.toml",
        "backcare/jupyter/voila/templates/backcare/conf.json",
        "backcare/jupyter/voila/templates/backcare/index.html.j2",
        # plotly.js's cartesian bundle for reports, copied there by make (git-ignored)
        "backcare/static/plotly-cartesian.min.js",
        "backcare/static/plotly.js-LICENSE.txt",
        "backcare/ui/static/hold_signal.js",  # the hold timer's front end, never from a CDN
        "backcare/ui/static/hold_signal.css",
        "backcare/ui/static/view_switch.js",
    ):
        assert name in names, f"{name} is not in the wheel (run make: it copies the npm bundle)"
    packaged = {p.name for p in (ROOT / "backcare" / "notebooks").glob("*.ipynb")}
    assert {
        n.removeprefix("backcare/notebooks/") for n in names if n.startswith("backcare/notebooks/")
    } == packaged


def test_backcare_runs_from_the_new_environment_not_the_checkout(installed):
    proc = _check(
        installed.run(
            installed.bin("python"),
            "-c",
            "import backcare, backcare.resources as r; print(backcare.__file__); "
            "print(r.APP_NOTEBOOK); print(r.checkout_notebooks())",
        ),
        "import backcare",
    )
    module, app_notebook, checkout = proc.stdout.split("\n")[:3]
    site_packages = installed.env_dir / "lib"
    assert Path(module).is_relative_to(site_packages) and Path(app_notebook).is_relative_to(
        site_packages
    )
    assert Path(app_notebook).is_file()
    assert checkout == "None"  # installed: no checkout notebooks/ around


def test_demo_fills_the_default_store_of_the_empty_folder(installed):
    _check(installed.demo, "backcare demo")
    assert f"added {PATIENTS} patients" in installed.demo.stdout
    assert (installed.folder / "data" / "backcare.db").is_file()
    proc = _check(installed.run(installed.bin("backcare"), "patients"), "backcare patients")
    assert "demo-0001" in proc.stdout and "demo-0002" in proc.stdout


def test_report_writes_self_contained_html_with_its_figures(installed):
    _check(installed.demo, "backcare demo")
    out = installed.folder / "r.html"
    proc = _check(
        installed.run(
            installed.bin("backcare"), "report", "--patient", "demo-0001", "--out", "r.html"
        ),
        "backcare report",
    )
    assert "wrote" in proc.stdout and "demo-0001" in proc.stdout
    html = out.read_text(encoding="utf-8")
    # Two weeks of sessions draw at least the pain-over-time, calendar and weekly-adherence figures.
    assert html.count('class="plotly-graph-div"') >= 3
    assert '<script src="http' not in html  # plotly.js embedded, nothing loaded from the internet
    assert "* plotly.js (cartesian - minified) v" in html  # the wheel's bundle, not the full one
    assert "backcare: note" not in proc.stderr
    assert "demo-0001" in html


def test_app_answers_with_its_token_and_refuses_without_then_stops_cleanly(installed, tmp_path):
    _check(installed.demo, "backcare demo")
    port, token = free_port(), new_token()
    environ = {**installed.environ, "BACKCARE_TOKEN": token, "BACKCARE_PATIENT": "demo-0001"}
    server = launch(
        [installed.bin("backcare"), "app", "--port", str(port)],
        cwd=installed.folder,
        env=environ,
        token=token,
        port=port,
        ready_path="/login",
        log=tmp_path / "app.log",
        timeout=180,
    )
    try:
        status, _, body = get(f"{server.base}/?token={token}", timeout=180)
        assert status == 200, server.log_tail()
        assert "My exercises" in body
        assert "application/vnd.jupyter.widget-view+json" in body and "Traceback" not in body
        for path in ("/", "/?token=wrong", "/api/kernels"):
            assert _refused(*get(server.base + path)[:2]), path
    finally:
        clean = stop_server(server)
    assert clean and server.proc.returncode == 0, server.log_tail()
    assert f"http://127.0.0.1:{port}/?token={token}" in server.log.read_text()


def test_lab_run_elsewhere_copies_the_notebooks_into_the_folder_and_serves_them(
    installed, tmp_path
):
    port, token = free_port(), new_token()
    environ = {**installed.environ, "BACKCARE_TOKEN": token}
    server = launch(
        [installed.bin("backcare"), "lab", "--port", str(port)],
        cwd=installed.folder,
        env=environ,
        token=token,
        port=port,
        ready_path="/api/status",
        log=tmp_path / "lab.log",
        timeout=180,
    )
    try:
        notebooks = installed.folder / "notebooks"
        assert sorted(p.name for p in notebooks.iterdir()) == sorted(
            p.name for p in (ROOT / "backcare" / "notebooks").glob("*.ipynb")
        )
        assert (
            notebooks.stat().st_mode & 0o077 == 0
        )  # owner-only: saved outputs can hold health data
        status, _, body = get(f"{server.base}/api/contents/01_today.ipynb?token={token}&content=0")
        assert status == 200 and '"01_today.ipynb"' in body
        assert get(f"{server.base}/api/contents")[0] == 403
    finally:
        clean = stop_server(server)
    assert clean and server.proc.returncode == 0, server.log_tail()
