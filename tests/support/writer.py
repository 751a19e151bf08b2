"""A writer process for the concurrency and crash tests: saves sessions and reports each save.

usage: python -m tests.support.writer URL WORKER N   (prints "saved <id>" after each save returns)
"""

from __future__ import annotations

import datetime as dt
import sys

from backcare.store import open_store

ITEMS = [
    {"exercise_id": "plank", "done": True, "hold_s": 30},
    {"exercise_id": "bird-dog", "done": True, "hold_s": 5},
    {"exercise_id": "cat-cow", "done": False},
    {"exercise_id": "brisk-walking", "done": True, "minutes": 12},
]


def main() -> None:
    url, worker, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = open_store(url)
    start = dt.date(2020, 1, 1)
    for i in range(n):
        sid = f"w{worker}-{i:05d}"
        kwargs = dict(
            day=start + dt.timedelta(days=i % 2000),
            pain_before=i % 11,
            pain_after=(i + 3) % 11,
            session_id=sid,
        )
        store.save_session("shared", ITEMS, **kwargs)
        if i % 50 == 0:  # a retry of the same save (a double click) must not duplicate
            store.save_session("shared", ITEMS, **kwargs)
        print(f"saved {sid}", flush=True)
    store.close()


if __name__ == "__main__":
    main()
