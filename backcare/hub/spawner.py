"""The hub's spawner: each user's single-user server, as a local process of the hub's own OS
user, in that user's owner-only working folder.

- A patient's server serves the checklist only: Voila as a server extension, JupyterLab,
  terminals and the other extensions off, backcare.hub.guard refusing every other URL, the
  kernels' websocket limited to widget messages (patient_server_config.py). The patient comes
  from the account, put in BACKCARE_PATIENT with BACKCARE_APP=1: the page never offers a
  choice of patient and no URL can name another.
- A physiotherapist's server is JupyterLab on a copy of the clinic notebooks
  (physio_server_config.py).
- BACKCARE_DB: on PostgreSQL the URL of the account's own role, with a password made for this
  start and taken away again when the server stops (row_security.open_login / close_login);
  on SQLite the store's file (no roles: the hub is the only wall). Nothing else of the hub's
  environment reaches a server (JupyterHub's env_keep: PATH, LANG, VIRTUAL_ENV and the like).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Unicode

from backcare.hub.accounts import Account, Accounts
from backcare.hub.folder import hub_dir, user_dir
from backcare.resources import APP_NOTEBOOK, PACKAGE_NOTEBOOKS
from backcare.servers import JUPYTER_DATA, PATIENT_ENV, PRIVATE_ENV

HERE = Path(__file__).resolve().parent
PATIENT_CONFIG = HERE / "patient_server_config.py"
PHYSIO_CONFIG = HERE / "physio_server_config.py"
CHECKLIST = APP_NOTEBOOK.name
PATIENT_URL = f"/voila/render/{CHECKLIST}"
# what a physiotherapist's JupyterLab starts with: the clinic notebooks (the checklist is the
# patients')
CLINIC_NOTEBOOKS = (
    "02_pain_trends.ipynb",
    "03_clinic_overview.ipynb",
    "04_patient_report.ipynb",
    "05_physio.ipynb",
)


def store_url() -> str:
    """The clinic store's URL as `backcare hub` gave it to the hub (BACKCARE_DB, a SQLite
    file's path made absolute): read as it is, so that the hub's event loop never waits for
    the store's modules to import."""
    url = os.environ.get("BACKCARE_DB", "")
    if not url:
        raise RuntimeError("BACKCARE_DB is not set: start the hub with `backcare hub`")
    return url


def _open_login(owner_url: str, account: str) -> str:
    from backcare.store import open_store
    from backcare.store import row_security as R

    with open_store(owner_url) as store, store.transaction() as conn:
        role = R.role_name(conn, account)
        return R.login_url(owner_url, role, R.open_login(conn, role))


def _close_login(owner_url: str, account: str) -> None:
    from backcare.store import open_store
    from backcare.store import row_security as R

    with open_store(owner_url) as store, store.transaction() as conn:
        R.close_login(conn, R.role_name(conn, account))


def prepare_patient_dir(home: Path) -> Path:
    """The folder a patient's server serves: the packaged checklist only, copied afresh."""
    folder = home / "checklist"
    folder.mkdir(mode=0o700, exist_ok=True)
    shutil.copyfile(APP_NOTEBOOK, folder / CHECKLIST)
    return folder


def prepare_physio_dir(home: Path) -> Path:
    """The folder a physiotherapist's JupyterLab opens: copies of the clinic notebooks, made
    on the first start only (theirs to change afterwards)."""
    folder = home / "notebooks"
    folder.mkdir(mode=0o700, exist_ok=True)
    for name in CLINIC_NOTEBOOKS:
        if not (folder / name).exists():
            shutil.copyfile(PACKAGE_NOTEBOOKS / name, folder / name)
    return folder


class BackcareSpawner(SimpleLocalProcessSpawner):
    """A local single-user server per account (see the module's docstring)."""

    hub_folder = Unicode(help="the hub's folder (default: BACKCARE_HUB_DIR)").tag(config=True)
    clinic_db = Unicode(help="the clinic store's URL (default: BACKCARE_DB)").tag(config=True)

    def _folder(self) -> Path:
        return Path(self.hub_folder) if self.hub_folder else hub_dir()

    def _db(self) -> str:
        return self.clinic_db or store_url()

    def _account(self) -> Account:
        found = Accounts(self._folder()).get(self.user.name)
        if found is None or found.disabled:
            raise RuntimeError(f"no enabled account {self.user.name!r}")
        return found

    async def start(self) -> Any:
        account = self._account()
        home = user_dir(self._folder(), self.user.name)
        self.home_dir = str(home)
        db = self._db()
        if not db.startswith("sqlite"):
            db = await asyncio.to_thread(_open_login, db, account.name)
        self._backcare_db = db
        if account.kind == "patient":
            root = prepare_patient_dir(home)
            self.default_url = PATIENT_URL
            config = PATIENT_CONFIG
        else:
            root = prepare_physio_dir(home)
            self.default_url = "/lab"
            config = PHYSIO_CONFIG
        self._backcare_kind = account
        self.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
        self.args = [f"--config={config}", f"--ServerApp.root_dir={root}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self.args.append("--allow-root")
        return await super().start()

    def get_env(self) -> dict[str, str]:
        env: dict[str, str] = super().get_env()
        account: Account = self._backcare_kind
        env["BACKCARE_DB"] = self._backcare_db
        paths = [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]
        env["JUPYTER_PATH"] = os.pathsep.join([str(JUPYTER_DATA), *paths])
        env.pop(PATIENT_ENV, None)
        env.pop(PRIVATE_ENV, None)
        if account.kind == "patient" and account.patient_id is not None:
            env[PATIENT_ENV] = account.patient_id
            env[PRIVATE_ENV] = "1"
        catalog = os.environ.get("BACKCARE_CATALOG")
        if catalog:
            env["BACKCARE_CATALOG"] = catalog
        # Jupyter's runtime files, settings and IPython's profile in the user's folder
        home = Path(self.home_dir)
        env["JUPYTER_RUNTIME_DIR"] = str(home / ".runtime")
        env["IPYTHONDIR"] = str(home / ".ipython")
        env["JUPYTERLAB_SETTINGS_DIR"] = str(home / ".lab-settings")
        env["JUPYTERLAB_WORKSPACES_DIR"] = str(home / ".lab-workspaces")
        return env

    async def stop(self, now: bool = False) -> None:
        await super().stop(now=now)
        db = self._db()
        if not db.startswith("sqlite"):
            try:
                await asyncio.to_thread(_close_login, db, self.user.name)
            except Exception:  # the server is stopped either way; say why the login stays
                self.log.exception("could not take the database login of %s away", self.user.name)
