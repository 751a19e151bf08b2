"""Questionnaires in the report, `backcare summary --json` and the demo: the numbers worked out
here by hand, the methods naming every threshold's source, and a pseudonymised report leaving
out the activities a patient named."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from backcare import reports as R
from backcare.cli import main
from backcare.present.questionnaires import questionnaire_table
from backcare.store import open_store
from tests.support.stores import START, add_default_patient

END = dt.date(2026, 3, 31)


def _patient_with_answers(store, pid="p1"):
    add_default_patient(store, pid)
    at = dt.datetime(2026, 1, 5, 18, 30, 0, 123456, tzinfo=dt.UTC)
    week = dt.timedelta(days=7)
    # RMDQ 14 -> 12 -> 9: down 5 points (35.7 %): important improvement
    for w, k in enumerate((14, 12, 9)):
        store.save_questionnaire(
            pid, "rmdq", [True] * k + [False] * (24 - k), recorded_at=at + w * 4 * week
        )
    # PSFS (2 + 4) / 2 = 3.0 -> (3 + 4) / 2 = 3.5: +0.5, no important change
    store.save_questionnaire(pid, "psfs", [("gardening", 2), ("stairs", 4)], recorded_at=at)
    store.save_questionnaire(
        pid, "psfs", [("gardening", 3), ("stairs", 4)], recorded_at=at + 8 * week
    )
    store.save_questionnaire(pid, "groc", 5, recorded_at=at + 8 * week, author="Dr K")
    return pid


def test_the_report_section_shows_baseline_latest_change_and_class(store):
    pid = _patient_with_answers(store)
    report = R.load_report(store, pid, "2026-02-01", END.isoformat())
    html = report.html("questionnaires")
    table = questionnaire_table(report.data.questionnaires, report.when).set_index("questionnaire")
    for cell in ("14.0 / 24", "9.0 / 24", "-5.0", "important improvement"):
        assert f"<td>{cell}</td>" in html
    assert table.loc["RMDQ", "baseline"] == "14.0 / 24"  # the programme's first week, before
    assert table.loc["RMDQ", "baseline day"] == "5 Jan 2026"  # the report's period starts
    assert table.loc["RMDQ", "latest"] == "9.0 / 24"
    assert table.loc["RMDQ", "change"] == "-5.0"
    assert table.loc["RMDQ", "change %"] == "-36 %"  # -5 / 14 = -35.7 %
    assert table.loc["RMDQ", "class"] == "important improvement"
    assert table.loc["PSFS", "change"] == "+0.5"
    assert table.loc["PSFS", "class"] == "no important change"
    assert table.loc["GROC", "latest"] == "+5"
    assert table.loc["GROC", "class"] == "important improvement"


def test_the_methods_state_every_threshold_and_its_source():
    text = R.methods_html()
    for needed in (
        "fall of at least 5 points or 30 % of baseline",
        "Ostelo RW et al., Spine 2008;33(1):90-94",
        "2 points on the mean either way",
        "Stratford P et al., Physiother Can 1995",
        "Abbott JH &amp; Schmitt JS",
        "+4 (moderately better)",
        "Jaeschke R et al., Control Clin Trials 1989",
        "Kamper SJ et al., J Man Manip Ther 2009",
    ):
        assert needed in text, needed


def test_a_pseudonymised_report_leaves_out_the_activities_and_the_real_dates(store):
    pid = _patient_with_answers(store)
    report = R.load_report(
        store, pid, "2026-01-05", END.isoformat(), pseudonymise=True, pseudonym="P-0123456789"
    )
    answers = report.data.questionnaire_responses
    assert set(answers["patient_id"]) == {"P-0123456789"}
    psfs = answers[answers["instrument"] == "psfs"]["answers"].map(json.loads).tolist()
    assert psfs == [[["activity 1", 2], ["activity 2", 4]], [["activity 1", 3], ["activity 2", 4]]]
    # dates shifted by whole weeks to the epoch week: 5 Jan 2026 (a Monday) -> 3 Jan 2000
    assert answers["day"].min() == pd.Timestamp("2000-01-03")
    figure = report.figure("pain").to_json()
    assert "gardening" not in figure and "stairs" not in figure


def test_summary_json_carries_the_questionnaires(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    with open_store(url) as store:
        _patient_with_answers(store)
    assert main(["summary", "--patient", "p1", "--on", END.isoformat(), "--json", "--db", url]) == 0
    out = json.loads(capsys.readouterr().out)
    by = {q["instrument"]: q for q in out["questionnaires"]}
    assert (by["rmdq"]["baseline"], by["rmdq"]["latest"], by["rmdq"]["change"]) == (14.0, 9.0, -5.0)
    assert by["rmdq"]["baseline_day"] == START.isoformat()
    assert by["rmdq"]["status"] == "important improvement"
    assert by["psfs"]["status"] == "no important change"
    assert by["groc"]["latest"] == 5.0 and by["groc"]["baseline"] is None


def test_the_demo_writes_plausible_questionnaires(demo_store):
    store = demo_store(patients=3, days=60, seed=2, end=END)
    q = store.questionnaires()
    assert set(q["instrument"]) == {"rmdq", "psfs", "groc"}
    assert set(q["patient_id"]) == {"demo-0001", "demo-0002", "demo-0003"}
    assert q.loc[q["instrument"] == "rmdq", "score"].between(0, 24).all()
    assert q.loc[q["instrument"] == "psfs", "score"].between(0, 10).all()
    assert q.loc[q["instrument"] == "groc", "score"].between(-7, 7).all()
    # RMDQ follows pain: the patient with the higher mean pain has the higher mean RMDQ
    pain = (
        store.daily().groupby("patient_id").apply(lambda d: d["pain_sum"].sum() / d["pain_n"].sum())
    )
    rmdq = q[q["instrument"] == "rmdq"].groupby("patient_id")["score"].mean()
    assert rmdq.idxmax() == pain.idxmax() and rmdq.idxmin() == pain.idxmin()
