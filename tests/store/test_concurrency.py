"""Several writers, and a writer killed mid-loop, lose and duplicate nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import sqlalchemy as sa

from backcare.store import open_store
from tests.support import ROOT

ITEMS_PER_SESSION = 4


def _writer(url: str, worker: str, n: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.writer", url, worker, str(n)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _prepare(url: str) -> None:
    with open_store(url) as store:
        store.add_patient("shared")


def check_writers_lose_and_duplicate_nothing(
    url: str, workers: int = 4, per_worker: int = 500
) -> None:
    _prepare(url)
    procs = [_writer(url, str(w), per_worker) for w in range(workers)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    saved = {line.split()[1] for out, _ in outs for line in out.splitlines()}
    assert len(saved) == workers * per_worker
    with open_store(url) as store:
        sessions = store.sessions("shared")
        items = store.items("shared")
        daily = store.daily("shared")
    assert len(sessions) == workers * per_worker
    assert set(sessions["session_id"]) == saved
    assert len(items) == ITEMS_PER_SESSION * workers * per_worker
    assert not items.duplicated(["session_id", "exercise_id"]).any()
    assert int(daily["sessions"].sum()) == workers * per_worker


def test_four_writers_lose_and_duplicate_nothing(store_url):
    check_writers_lose_and_duplicate_nothing(store_url)


def test_writer_killed_mid_loop_leaves_a_sound_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    _prepare(url)
    proc = _writer(url, "k", 100_000)
    returned = []
    for line in proc.stdout:
        returned.append(line.split()[1])
        if len(returned) >= 150:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with open_store(url) as store:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            per_session = conn.execute(
                sa.text(
                    "SELECT s.session_id, count(i.exercise_id) FROM sessions s "
                    "LEFT JOIN session_items i ON i.session_id = s.session_id GROUP BY s.session_id"
                )
            ).all()
        stored = {sid for sid, _ in per_session}
        # every save that returned is present ...
        assert set(returned) <= stored
        # ... and no session is half-saved: each has all its items
        assert {n for _, n in per_session} == {ITEMS_PER_SESSION}
        # the summary agrees with the sessions that made it
        assert int(store.daily("shared")["sessions"].sum()) == len(stored)
