"""Benchmark 4: JSON size of every trends figure for 1, 10 and 100 patient-years.

One demo patient with 1, 10 and 100 years of daily history; each figure of the trends
notebook is built over the whole history and serialised. Figures aggregate before they
plot, so the size must stay under 200 KB whatever the length of history."""

from __future__ import annotations

import datetime as dt

from common import CACHE

LIMIT_KB = 200
YEARS = (1, 10, 100)


def run() -> dict:
    from backcare.demo import fill_demo
    from backcare.present.figures import trend_figures
    from backcare.services import load_trends
    from backcare.store import open_store

    out = {}
    end = dt.date(2026, 6, 30)
    for years in YEARS:
        path = CACHE / f"figures-{years}y.db"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            for p in CACHE.glob(tmp.name + "*"):
                p.unlink()
            with open_store(f"sqlite:///{tmp}") as s:
                fill_demo(s, patients=1, days=365 * years, seed=9, end=end, progress=False)
            tmp.rename(path)
        with open_store(f"sqlite:///{path}") as store:
            data = load_trends(store, "demo-0001", "All history", end)
            for name, fig in trend_figures(data, store.catalog).items():
                out[f"{name} @ {years} y (KB)"] = len(fig.to_json().encode()) / 1024
    out["largest / 200 KB"] = max(out.values()) / LIMIT_KB
    return out


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:>30}: {v:.1f}")
