"""The hub's Authenticator: backcare's accounts (backcare.hub.accounts), argon2id hashes.

A wrong password, an unknown name and a disabled account get the same refusal. An account
disabled while its user is logged in is noticed within auth_refresh_age (refresh_user), and
its server is not started again (refresh_pre_spawn)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from jupyterhub.auth import Authenticator
from traitlets import Unicode, default

from backcare.hub.accounts import NAME_RE, Accounts
from backcare.hub.folder import hub_dir


class BackcareAuthenticator(Authenticator):
    """Log in with a backcare account's name and password."""

    hub_folder = Unicode(help="the hub's folder (default: BACKCARE_HUB_DIR)").tag(config=True)

    @default("allow_all")
    def _allow_all(self) -> bool:
        return False

    @default("any_allow_config")
    def _any_allow(self) -> bool:
        return True  # check_allowed: every enabled account

    @default("auth_refresh_age")
    def _refresh_age(self) -> int:
        return 60

    @default("refresh_pre_spawn")
    def _refresh_pre_spawn(self) -> bool:
        return True

    def _accounts(self) -> Accounts:
        return Accounts(Path(self.hub_folder) if self.hub_folder else hub_dir())

    def normalize_username(self, username: str) -> str:
        return username.strip()  # never lower-cased into another account's name

    async def authenticate(self, handler: Any, data: dict[str, str]) -> dict[str, Any] | None:
        name = str(data.get("username", "")).strip()
        password = str(data.get("password", ""))
        if not NAME_RE.match(name):
            name = ""  # still hashed below: the same work as for any refusal
        account = await asyncio.to_thread(self._accounts().verify, name, password)
        if account is None:
            self.log.warning("backcare: login refused")  # never which name, never why
            return None
        return {"name": account.name, "admin": False}

    def check_allowed(self, username: str, authentication: Any = None) -> bool:
        found = self._accounts().get(username)
        return found is not None and not found.disabled

    async def refresh_user(self, user: Any, handler: Any = None) -> bool:
        found = await asyncio.to_thread(self._accounts().get, user.name)
        return found is not None and not found.disabled
