"""Benchmark 1: save one 8-exercise session through backcare vs raw sqlite3, same durability.

Both write into their own copy of the 1,000-patient x 365-day store, with WAL,
synchronous=FULL, foreign keys on and BEGIN IMMEDIATE. backcare also validates, checks for
an existing id (idempotency) and refreshes the patient's daily summary in the same
transaction; raw sqlite3 does only the inserts.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import time
import uuid

from common import CACHE, clinic_db, summarise

N = int(__import__("os").environ.get("BENCH_SAVES", "300"))


def _items():
    return [
        {"exercise_id": "knee-to-chest", "done": True, "hold_s": 30},
        {"exercise_id": "pelvic-tilt", "done": True, "reps": 12},
        {"exercise_id": "plank", "done": True, "hold_s": 45},
        {"exercise_id": "bird-dog", "done": False},
        {"exercise_id": "brisk-walking", "done": True, "minutes": 12},
        {"exercise_id": "swimming", "done": False},
        {"exercise_id": "cat-cow", "done": True, "reps": 10},
        {"exercise_id": "hamstring-stretch", "done": True, "hold_s": 30},
    ]


def run() -> dict:
    src = clinic_db()
    a, b = CACHE / "save-backcare.db", CACHE / "save-raw.db"
    for dst in (a, b):
        for p in dst.parent.glob(dst.name + "*"):
            p.unlink()
        shutil.copy(src, dst)

    from backcare.store import open_store

    store = open_store(f"sqlite:///{a}")
    items = _items()
    day0 = dt.date(2026, 7, 1)
    ours = []
    for i in range(N):
        t = time.perf_counter()
        store.save_session(
            "demo-0500",
            items,
            day=day0 + dt.timedelta(days=i % 100),
            pain_before=5,
            pain_after=4,
            notes="bench",
            session_id=f"bench-{i}",
        )
        ours.append(time.perf_counter() - t)
    store.close()

    con = sqlite3.connect(b, isolation_level=None, timeout=30)
    for pragma in (
        "busy_timeout = 30000",
        "journal_mode = WAL",
        "synchronous = FULL",
        "foreign_keys = ON",
    ):
        con.execute(f"PRAGMA {pragma}")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    raw = []
    for i in range(N):
        t = time.perf_counter()
        sid = uuid.uuid4().hex
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "INSERT INTO sessions (session_id, patient_id, day, programme_id, pain_before, "
            "pain_after, notes, red_flags, created_at, updated_at) "
            "VALUES (?, ?, ?, NULL, 5, 4, 'bench', '', ?, ?)",
            (sid, "demo-0500", (day0 + dt.timedelta(days=i % 100)).isoformat(), now, now),
        )
        con.executemany(
            "INSERT INTO session_items "
            "(session_id, exercise_id, done, sets, reps, hold_s, minutes) "
            "VALUES (?, ?, ?, NULL, ?, ?, ?)",
            [
                (
                    sid,
                    it["exercise_id"],
                    it["done"],
                    it.get("reps"),
                    it.get("hold_s"),
                    it.get("minutes"),
                )
                for it in items
            ],
        )
        con.execute("COMMIT")
        raw.append(time.perf_counter() - t)
    con.close()
    o, r = summarise(ours), summarise(raw)
    return {
        "n": N,
        "backcare_median_ms": o["median"] * 1e3,
        "backcare_p99_ms": o["p99"] * 1e3,
        "raw_median_ms": r["median"] * 1e3,
        "raw_p99_ms": r["p99"] * 1e3,
        "ratio_median": o["median"] / r["median"],
        "ratio_p99": o["p99"] / r["p99"],
    }


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:>22}: {v:.2f}" if isinstance(v, float) else f"{k:>22}: {v}")
