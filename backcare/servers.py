"""Start JupyterLab (and the Voila app) bound to 127.0.0.1 with a token, printing the full URL."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = Path("notebooks")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_token() -> str:
    """A random access token for a local server."""
    return secrets.token_urlsafe(24)


def lab_command(port: int, token: str, notebook_dir: Path = NOTEBOOKS) -> list[str]:
    """The argv that starts JupyterLab on 127.0.0.1:port with token, rooted at notebook_dir."""
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", "--no-browser",
        f"--ServerApp.root_dir={notebook_dir}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def run_lab(port: int | None = None, notebook_dir: Path = NOTEBOOKS) -> int:
    """Run JupyterLab in the foreground until Ctrl-C; return its exit code."""
    port = port or 8888
    token = os.environ.get("BACKCARE_TOKEN") or new_token()
    print(f"backcare: JupyterLab on http://127.0.0.1:{port}/lab?token={token}", flush=True)
    print("backcare: open that URL in your browser; press Ctrl-C to stop.", flush=True)
    try:
        return subprocess.call(lab_command(port, token, notebook_dir))
    except KeyboardInterrupt:
        return 0
