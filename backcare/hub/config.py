"""The hub's JupyterHub configuration (applied by jupyterhub_config.py, which `backcare hub`
gives JupyterHub with -f).

Everything binds 127.0.0.1: the public proxy on BACKCARE_HUB_PORT, the hub and the proxy's
API on ports `backcare hub` chose. The hub's database, cookie secret and pid files live in the
hub's owner-only folder. Accounts log in with backcare's Authenticator; servers start with
backcare's Spawner; jupyterhub-idle-culler stops servers idle for BACKCARE_HUB_IDLE_TIMEOUT
seconds (default IDLE_TIMEOUT); the "backcare" service (its token in the folder, owner-only)
lets backcare's commands and tests read users and stop servers through the hub's API."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backcare.errors import BackcareError
from backcare.hub.folder import COOKIE_SECRET, HUB_DB, hub_dir

PORT_ENV = "BACKCARE_HUB_PORT"
HUB_PORT_ENV = "BACKCARE_HUB_INTERNAL_PORT"
PROXY_API_PORT_ENV = "BACKCARE_HUB_PROXY_API_PORT"
IDLE_TIMEOUT_ENV = "BACKCARE_HUB_IDLE_TIMEOUT"
ACTIVITY_ENV = "BACKCARE_HUB_ACTIVITY_INTERVAL"
IDLE_TIMEOUT = 1800  # seconds without activity before a server is stopped (30 minutes)
ACTIVITY_INTERVAL = 300  # JupyterHub's default: how often activity is gathered (seconds)
SERVICE = "backcare"
SERVICE_TOKEN = "service_token"
PROXY = "configurable-http-proxy"
CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
SERVICE_SCOPES = [
    "list:users",
    "read:users",
    "read:servers",
    "delete:servers",
    "tokens",
    "list:services",
    "read:services",
]


def proxy_command(cwd: Path | None = None) -> str:
    """configurable-http-proxy as the set-up installed it (node_modules/.bin of the checkout
    or of the working directory), else from PATH; BackcareError saying how to install it."""
    from backcare.resources import checkout_notebooks

    places = [(cwd or Path.cwd()) / "node_modules" / ".bin" / PROXY]
    checkout = checkout_notebooks()
    if checkout is not None:
        places.insert(0, checkout.parent / "node_modules" / ".bin" / PROXY)
    for place in places:
        if place.is_file() and os.access(place, os.X_OK):
            return str(place)
    import shutil

    found = shutil.which(PROXY)
    if found:
        return found
    raise BackcareError(
        f"{PROXY} not found: run `make` in the backcare checkout (npm ci installs it into "
        f"node_modules/), or `npm install -g {PROXY}`"
    )


def _int(env: Mapping[str, str], name: str, default: int | None = None) -> int:
    text = env.get(name, "")
    if not text:
        if default is None:
            raise BackcareError(f"{name} is not set: start the hub with `backcare hub`")
        return default
    if not text.isdigit() or int(text) < 1:
        raise BackcareError(f"{name}: {text!r} is not allowed; expected a whole number from 1")
    return int(text)


def configure(c: Any, environ: Mapping[str, str] | None = None) -> None:
    """Fill JupyterHub's config object c (see the module's docstring)."""
    env = os.environ if environ is None else environ
    folder = hub_dir(env)
    port = _int(env, PORT_ENV)
    idle = _int(env, IDLE_TIMEOUT_ENV, IDLE_TIMEOUT)
    activity = _int(env, ACTIVITY_ENV, ACTIVITY_INTERVAL)

    c.JupyterHub.bind_url = f"http://127.0.0.1:{port}/"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{_int(env, HUB_PORT_ENV)}"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_int(env, PROXY_API_PORT_ENV)}"
    c.ConfigurableHTTPProxy.command = [proxy_command()]
    c.ConfigurableHTTPProxy.pid_file = str(folder / "proxy.pid")
    c.ConfigurableHTTPProxy.should_start = True
    c.JupyterHub.db_url = f"sqlite:///{folder / HUB_DB}"
    c.JupyterHub.cookie_secret_file = str(folder / COOKIE_SECRET)
    c.JupyterHub.pid_file = str(folder / "jupyterhub.pid")
    c.JupyterHub.cleanup_servers = True  # a stopped hub stops every server it started
    c.JupyterHub.allow_named_servers = False
    c.JupyterHub.last_activity_interval = activity

    c.JupyterHub.authenticator_class = "backcare.hub.auth.BackcareAuthenticator"
    c.BackcareAuthenticator.hub_folder = str(folder)
    c.JupyterHub.spawner_class = "backcare.hub.spawner.BackcareSpawner"
    c.BackcareSpawner.hub_folder = str(folder)
    c.Spawner.disable_user_config = True
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 120
    c.Spawner.environment = {"JUPYTERHUB_ACTIVITY_INTERVAL": str(activity)}

    token = (folder / SERVICE_TOKEN).read_text().strip()
    c.JupyterHub.services = [
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={idle}",
                f"--cull-every={max(1, min(60, idle // 4))}",
            ],
            "cwd": str(folder),
        },
        {"name": SERVICE, "api_token": token},
    ]
    c.JupyterHub.load_roles = [
        {"name": "idle-culler", "scopes": CULLER_SCOPES, "services": ["idle-culler"]},
        {"name": SERVICE, "scopes": SERVICE_SCOPES, "services": [SERVICE]},
    ]
