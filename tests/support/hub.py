"""Helpers for the hub's tests: accounts through the CLI, the hub's API with the backcare
service's token, the single-user servers' processes, database roles dropped afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from backcare.hub.config import SERVICE_TOKEN
from backcare.servers import _proc_stat, descendants
from tests.support import ROOT


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`backcare ARGS` run from the checkout with env added: its exit code, stdout, stderr."""
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "backcare.cli", *args],
        env=full,
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def add_account(
    folder: Path, db: str, name: str, password: str, *kind: str
) -> subprocess.CompletedProcess[str]:
    """`backcare account add NAME KIND... --password-file F` with the password in an owner-only
    file (never on a command line)."""
    secret = folder.parent / f"{name}.password"
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    env = {"BACKCARE_DB": db, "BACKCARE_HUB_DIR": str(folder)}
    return cli(["account", "add", name, *kind, "--password-file", str(secret)], env)


def hub_api(base: str, folder: Path, path: str, method: str = "GET") -> object:
    """The hub's REST API (/hub/api/PATH) as the backcare service: the decoded JSON answer."""
    token = (folder / SERVICE_TOKEN).read_text().strip()
    req = urllib.request.Request(
        f"{base.rstrip('/')}/hub/api/{path}",
        method=method,
        headers={"Authorization": f"token {token}"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = resp.read()
    return json.loads(body) if body else None


def environ_of(pid: int) -> dict[str, str]:
    """The environment a process started with (Linux /proc; {} when unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def user_servers(hub_pid: int) -> dict[str, int]:
    """{hub user name: pid} of the single-user servers running below the hub process."""
    out = {}
    for pid, _ in descendants(hub_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"jupyterhub.singleuser" in cmd:
            user = environ_of(pid).get("JUPYTERHUB_USER")
            if user:
                out[user] = pid
    return out


def rss_kib(pid: int) -> int:
    """The resident memory of a process in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(pid: int) -> int:
    """The resident memory of pid and every process below it, in KiB."""
    alive = [pid] if _proc_stat(pid) else []
    return sum(rss_kib(p) for p in alive + [p for p, _ in descendants(pid)])


def drop_store_roles(url: str) -> None:
    """Drop every database role the store at url maps (store_roles): roles belong to the
    cluster and outlive the test's database."""
    from backcare.store import open_store
    from backcare.store import row_security as R

    with open_store(url) as store:
        if store.is_sqlite:
            return
        with store.transaction() as conn:
            if not sa.inspect(conn).has_table("store_roles"):
                return
            for role, _, _ in R.mapped_roles(conn):
                R.close_login(conn, role)
                conn.exec_driver_sql(f"DROP OWNED BY {R.quote(conn, role)}")
                conn.exec_driver_sql(f"DROP ROLE {R.quote(conn, role)}")
