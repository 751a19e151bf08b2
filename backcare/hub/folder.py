"""The hub's folder: owner-only (0700), holding everything the hub writes.

    jupyterhub.sqlite          the hub's own database (users, servers, tokens; no health data)
    jupyterhub_cookie_secret   the secret signing the hub's cookies
    accounts.sqlite            backcare's accounts: kind, patient, argon2id password hash
    users/NAME/                each user's working folder (their server runs there)

BACKCARE_HUB_DIR names it; the default is data/hub under the working directory, beside the
default store."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from backcare.owner_only import private_dir, restrict_dir

HUB_DIR_ENV = "BACKCARE_HUB_DIR"
DEFAULT_DIR = Path("data") / "hub"
HUB_DB = "jupyterhub.sqlite"
COOKIE_SECRET = "jupyterhub_cookie_secret"
ACCOUNTS_DB = "accounts.sqlite"
USERS = "users"


def hub_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The hub's folder (absolute): BACKCARE_HUB_DIR, else data/hub."""
    env = os.environ if environ is None else environ
    return Path(env.get(HUB_DIR_ENV) or DEFAULT_DIR).resolve()


def ensure_dir(path: Path) -> Path:
    """Create path (and parents) owner-only, or make an existing one owner-only; return it."""
    private_dir(path)
    restrict_dir(path)
    return path


def user_dir(folder: Path, name: str) -> Path:
    """A user's working folder in the hub's folder, created owner-only."""
    return ensure_dir(ensure_dir(folder / USERS) / name)
