"""The backcare command: a thin, documented layer; user errors are one line and exit 2."""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys

import pytest

from backcare.cli import build_parser, main
from tests.support import ROOT


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices)


def test_every_subcommand_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in subcommands() if f"backcare {c}" not in readme]
    assert not missing, f"README.md does not document: {missing}"


@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert f"backcare {command}" in capsys.readouterr().out


def test_demo_then_patients(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert (
        main(
            [
                "demo",
                "--patients",
                "3",
                "--days",
                "30",
                "--seed",
                "2",
                "--end",
                "2026-03-01",
                "--db",
                url,
            ]
        )
        == 0
    )
    assert "added 3 patients" in capsys.readouterr().out
    assert main(["patients", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "demo-0001" in out and "demo-0003" in out and "2026-03-01" in out
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["patient_id", "name", "sessions"] and len(lines) == 4


def test_patients_on_an_empty_store_says_so(tmp_path, capsys):
    assert main(["patients", "--db", f"sqlite:///{tmp_path / 'e.db'}"]) == 0
    assert "no patients yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["patients", "--db", "nosuchdb://x"], "db: 'nosuchdb://x' is not allowed"),
        (["demo", "--days", "0"], "--days"),
        (["demo", "--end", "2026-02-30"], "is not a date"),
        (["demo", "--end", "2150-01-01", "--days", "2"], "not in the future"),
        (["demo", "--end", "2999-01-01", "--days", "2"], "from 1900-01-01 to 2199-12-31"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(argv, message, tmp_path):
    if "--db" not in argv:
        argv = [*argv, "--db", f"sqlite:///{tmp_path / 'x.db'}"]
    proc = subprocess.run(
        [sys.executable, "-m", "backcare.cli", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert message in proc.stderr
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith(("backcare: error:", "backcare demo: error:"))
    )


def _steady_patient(url: str) -> None:
    """Plank every day from 2 Mar 2026; pain 6 for two weeks, 5 for two, then 3 for two."""
    import datetime as dt

    from backcare.domain.programme import Prescription
    from backcare.store import open_store

    start = dt.date(2026, 3, 2)
    with open_store(url) as store:
        store.add_patient("p1", "One")
        store.set_programme("p1", [Prescription("plank", hold_s=30, times_per_week=7)], start)
        for d in range(42):
            store.save_session(
                "p1",
                [{"exercise_id": "plank", "done": True, "hold_s": 30}],
                day=start + dt.timedelta(days=d),
                pain_before=6 if d < 14 else 5 if d < 28 else 3,
            )


def test_summary_json_prints_the_trends_views_numbers(tmp_path, capsys):
    import json

    from backcare import services
    from backcare.store import open_store

    url = f"sqlite:///{tmp_path / 's.db'}"
    _steady_patient(url)
    args = ["summary", "--patient", "p1", "--on", "2026-04-12", "--period", "All history"]
    assert main([*args, "--json", "--db", url]) == 0
    out = json.loads(capsys.readouterr().out)
    trend = out["pain_trend"]
    # baseline: the 14 days from the programme's start at 6.0; latest: the last 14 at 3.0;
    # -3 points = -50 %: much improved
    assert (trend["status"], trend["baseline"], trend["latest"]) == ("much improved", 6.0, 3.0)
    assert trend["baseline_window"] == ["2026-03-02", "2026-03-15"]
    assert trend["latest_window"] == ["2026-03-30", "2026-04-12"]
    # every week done 7 of 7
    assert {w["adherence"] for w in out["weekly_adherence"]} == {1.0}
    # the same functions as the view: the summary sentence is the view's
    with open_store(url) as store:
        view = services.load_trends(
            store, "p1", "All history", __import__("datetime").date(2026, 4, 12)
        )
    assert out["summary"] == view.summary
    assert main(["summary", "--patient", "nobody", "--db", url]) == 2
    assert "patient_id: 'nobody' not found" in capsys.readouterr().err


def test_overview_csv_and_json_are_the_clinic_overview(tmp_path, capsys):
    import io
    import json

    import pandas as pd

    url = f"sqlite:///{tmp_path / 'o.db'}"
    _steady_patient(url)
    assert main(["overview", "--on", "2026-04-12", "--json", "--db", url]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["patient_id"] for r in rows] == ["p1"]
    # 14 of 14 done in the window; pain 6.0 -> 3.0
    assert rows[0]["adherence_14d"] == 1.0 and rows[0]["pain_class"] == "much improved"
    assert main(["overview", "--on", "2026-04-12", "--csv", "--db", url]) == 0
    csv = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(csv["patient_id"]) == ["p1"] and csv.loc[0, "baseline"] == 6.0


def test_timezone_moves_a_patient_from_a_day_and_refuses_bad_input(tmp_path, capsys):
    from backcare.store import open_store
    from tests.support.stores import add_default_patient

    url = f"sqlite:///{tmp_path / 'tz.db'}"
    with open_store(url) as store:
        add_default_patient(store)
        # a pain score at 00:10 London summer time on Tue 2 June 2026 (23:10 UTC on the 1st)
        store.add_pain("p1", 3, recorded_at=dt.datetime(2026, 6, 1, 23, 10, tzinfo=dt.UTC))
    base = ["timezone", "--patient", "p1", "--db", url]
    bad = [
        (["--zone", "Europe/Nowhere"], "--zone: 'Europe/Nowhere' is not allowed"),
        # the London day of that score is 2 June: moving from it is refused
        (["--zone", "Asia/Tokyo", "--from", "2026-06-02"], "a day after 2026-06-02"),
        (["--zone", "Europe/London", "--from", "2026-06-03"], "a time zone other than"),
    ]
    for extra, message in bad:
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and message in err, err
    with open_store(url) as store:
        assert store.patient_timezone("p1").key == "Europe/London"
        notes = len(store.annotations("p1"))
    assert main([*base, "--zone", "Asia/Tokyo", "--from", "2026-06-03"]) == 0
    assert capsys.readouterr().out.strip() == (
        "patient p1: time zone Europe/London -> Asia/Tokyo from 2026-06-03"
    )
    with open_store(url) as store:
        assert store.patient_timezone("p1").key == "Asia/Tokyo"
        assert len(store.annotations("p1")) == notes + 1
