"""Helpers the tests share (plain code; the fixtures live in tests/conftest.py).

frames   small hand-built frames with the store's dtypes, for analysis and figures
stores   START, a patient on the default programme, row counts per table
hostile  user text that would run as code if a page showed it unescaped
servers  start a local JupyterLab or Voila server, wait for it, stop it
writer   a writer process for the concurrency tests (python -m tests.support.writer)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the checkout


def require(flag: str, reason: str) -> None:
    """Skip with reason, unless the environment makes the test mandatory (CI): then fail."""
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} ({flag}=1 makes this test mandatory)")
    pytest.skip(reason)
