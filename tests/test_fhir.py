"""backcare export --format fhir: a FHIR R4 Bundle validated by fhir.resources, holding the
values written through the user paths (tests/support/usage.py)."""

from __future__ import annotations

import json
import re

import pytest
from fhir.resources.R4B.bundle import Bundle  # fhir.resources 8 ships R5 at its root; R4B = 4.3

from backcare.cli import main
from backcare.fhir import fhir_bundle
from backcare.store import open_store
from tests.support.stores import row_counts
from tests.support.usage import use_the_app


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def by_ref(bundle: dict) -> dict[str, dict]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


@pytest.fixture
def used(store):
    return use_the_app(store, "maria")


def test_bundle_is_valid_fhir_r4_collection(store, used):
    bundle = fhir_bundle(store, "maria")
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    kinds = [type(e.resource).__name__ for e in parsed.entry]
    # 1 patient, 1 programme, 2 sessions + 6 exercises, 4 session scores + 1 quick score
    assert kinds.count("Patient") == 1 and kinds.count("CarePlan") == 1
    assert kinds.count("Procedure") == 8 and kinds.count("Observation") == 5
    refs = by_ref(bundle)
    for e in bundle["entry"]:  # every reference resolves inside the bundle
        for ref in re.findall(r'"reference": "([^"]+)"', json.dumps(e["resource"])):
            assert ref in refs


def test_validation_would_catch_a_broken_resource(store, used):
    bundle = fhir_bundle(store, "maria")
    obs = resources(bundle, "Observation")[0]
    obs["effectiveDateTime"] = "2026-03-14 23:41"  # not FHIR's dateTime
    with pytest.raises(ValueError, match="effectiveDateTime"):
        Bundle.model_validate(bundle)
    obs["effectiveDateTime"] = "2026-03-14T23:41:07.123456+01:00"
    del obs["code"]  # required
    with pytest.raises(ValueError, match="code"):
        Bundle.model_validate(bundle)


def test_patient_and_pain_observations_hold_the_written_values(store, used):
    bundle = fhir_bundle(store, "maria")
    (patient,) = resources(bundle, "Patient")
    assert patient["identifier"] == [{"system": "urn:backcare:patient", "value": "maria"}]
    assert patient["name"] == [{"text": "Maria Lopez"}]
    subject = {"reference": f"urn:uuid:{patient['id']}"}
    pain = {
        o["identifier"][0]["value"].split(":")[-1] + "@" + o["effectiveDateTime"]: o
        for o in resources(bundle, "Observation")
    }
    s1, s2 = used.session_ids
    # Madrid is UTC+1 until 02:00 on 2026-03-29; the after-score is taken at the session's end
    # (18 min 4 microseconds after 23:41:07.123456, 25 min after 00:20:05.900001)
    expected = {
        "before@2026-03-14T23:41:07.123456+01:00": 6,
        "after@2026-03-14T23:59:07.123460+01:00": 4,
        "before@2026-03-29T00:20:05.900001+01:00": 3,
        "after@2026-03-29T00:45:05.900001+01:00": 2,
        f"{used.pain_id}@2026-03-16T08:05:30.250000+01:00": 5,
    }
    assert {k: o["valueQuantity"]["value"] for k, o in pain.items()} == expected
    for o in pain.values():
        assert o["code"]["coding"] == [
            {
                "system": "http://loinc.org",
                "code": "72514-3",
                "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
            }
        ]
        assert o["valueQuantity"]["unit"] == "{score}" and o["subject"] == subject
    quick = pain[f"{used.pain_id}@2026-03-16T08:05:30.250000+01:00"]
    assert quick["note"] == [{"text": "recorded: morning"}] and "partOf" not in quick
    sessions = {
        p["identifier"][0]["value"]: p for p in resources(bundle, "Procedure") if "identifier" in p
    }
    first = sessions[s1]
    assert pain["before@2026-03-14T23:41:07.123456+01:00"]["partOf"] == [
        {"reference": f"urn:uuid:{first['id']}"}
    ]


def test_programme_is_a_care_plan_with_doses_and_weekly_timing(store, used):
    bundle = fhir_bundle(store, "maria")
    (plan,) = resources(bundle, "CarePlan")
    assert (plan["status"], plan["intent"]) == ("active", "plan")
    assert plan["period"] == {"start": "2026-03-02"}
    assert plan["author"] == {"display": "Ana (physio)"} and plan["note"] == [
        {"text": "start gently"}
    ]
    details = [a["detail"] for a in plan["activity"]]
    assert [d["code"]["coding"][0]["code"] for d in details] == [
        "pelvic-tilt",
        "plank",
        "brisk-walking",
    ]
    ext = [
        {
            x["url"].rsplit(":", 1)[1]: next(v for k, v in x.items() if k != "url")
            for x in d["extension"]
        }
        for d in details
    ]
    assert ext == [
        {"sets": 2, "reps": 12, "each-side": False},
        {"sets": 3, "hold-seconds": 45, "each-side": False},
        {"sets": 1, "minutes": 15, "each-side": False},
    ]
    assert [d["scheduledTiming"]["repeat"] for d in details] == [
        {"frequency": 5, "period": 1, "periodUnit": "wk"},
        {"frequency": 3, "period": 1, "periodUnit": "wk"},
        {"frequency": 7, "period": 1, "periodUnit": "wk", "duration": 15, "durationUnit": "min"},
    ]
    assert details[0]["description"] == "2 sets: 12 reps, 5 times a week"


def test_a_new_programme_replaces_the_old_plan(store, used):
    import datetime as dt

    from backcare.domain.programme import Prescription

    store.set_programme(
        "maria", [Prescription("plank", sets=3, hold_s=60, times_per_week=4)], dt.date(2026, 3, 23)
    )
    plans = resources(fhir_bundle(store, "maria"), "CarePlan")
    assert [p["status"] for p in plans] == ["completed", "active"]
    assert plans[0]["period"] == {"start": "2026-03-02", "end": "2026-03-22"}
    assert plans[1]["replaces"] == [{"reference": f"urn:uuid:{plans[0]['id']}"}]


def test_sessions_are_procedures_based_on_the_plan(store, used):
    bundle = fhir_bundle(store, "maria")
    (plan,) = resources(bundle, "CarePlan")
    procs = resources(bundle, "Procedure")
    sessions = {p["identifier"][0]["value"]: p for p in procs if "identifier" in p}
    s1, s2 = used.session_ids
    one = sessions[s1]
    assert one["code"]["coding"][0]["code"] == "229065009" and one["status"] == "completed"
    assert one["performedPeriod"] == {
        "start": "2026-03-14T23:41:07.123456+01:00",
        "end": "2026-03-14T23:59:07.123460+01:00",
    }
    assert one["basedOn"] == [{"reference": f"urn:uuid:{plan['id']}"}]
    assert one["note"] == [{"text": "stiff after driving"}] and "note" not in sessions[s2]
    parts = [p for p in procs if p.get("partOf") == [{"reference": f"urn:uuid:{one['id']}"}]]
    assert {(p["code"]["coding"][0]["code"], p["status"]) for p in parts} == {
        ("pelvic-tilt", "completed"),
        ("plank", "completed"),
        ("brisk-walking", "not-done"),
    }
    plank = next(p for p in parts if p["code"]["coding"][0]["code"] == "plank")
    assert plank["note"] == [{"text": "done: 3 sets: hold 40 s"}]


def test_cli_pseudonymised_fhir_has_no_identity_nor_real_dates(sqlite_url, tmp_path, capsys):
    import datetime as dt

    with open_store(sqlite_url) as store:
        use_the_app(store, "maria")
        at = dt.datetime(2026, 3, 29, 7, 30, tzinfo=dt.UTC)
        store.save_questionnaire("maria", "groc", 3, recorded_at=at, author="Ana Physio")
    out = tmp_path / "maria.json"
    argv = ["export", "--format", "fhir", "--patient", "maria", "--out", str(out)]
    assert main([*argv, "--pseudonymise", "--db", sqlite_url]) == 0
    # 5 pain scores and the GROC total
    assert "1 Patient, 1 CarePlan, 8 Procedure, 6 Observation" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    bundle = Bundle.model_validate_json(text)
    assert bundle.timestamp is None  # the export time would date the shift
    for secret in (
        "maria",
        "Maria",
        "Lopez",
        "stiff after driving",
        "start gently",
        "2026",
        "Ana Physio",  # who entered the questionnaire
    ):
        assert secret not in text
    data = json.loads(text)
    # times keep only their local date, shifted by whole weeks: the programme's first day
    # (Monday 2026-03-02) becomes 2000-01-03, so 2026-03-14 (12 days on) is 2000-01-15,
    # 2026-03-16 is 2000-01-17 and 2026-03-29 (27 days on) is 2000-01-30
    assert sorted(o["effectiveDateTime"] for o in resources(data, "Observation")) == [
        "2000-01-15",
        "2000-01-15",
        "2000-01-17",
        "2000-01-30",
        "2000-01-30",
        "2000-01-30",  # the GROC, answered at 09:30 in Madrid on 2026-03-29
    ]
    (plan,) = resources(data, "CarePlan")
    assert plan["period"] == {"start": "2000-01-03"}
    (patient,) = resources(data, "Patient")
    assert re.fullmatch(r"P-[0-9a-f]{10}", patient["identifier"][0]["value"])
    assert "name" not in patient


def test_cli_fhir_refuses_a_folder_and_writes_nothing(sqlite_url, tmp_path, capsys):
    with open_store(sqlite_url) as store:
        use_the_app(store, "maria")
        before = row_counts(store)
    argv = ["export", "--format", "fhir", "--patient", "maria", "--db", sqlite_url]
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"backcare: error: --out: {str(tmp_path)!r} is not allowed")
        and err.count("\n") == 1
    )
    assert main([*argv, "--out", "/proc/x.json"]) == 2
    assert (
        "--out: '/proc/x.json' is not allowed; expected a file that can be written"
        in capsys.readouterr().err
    )
    assert (
        main(
            [*argv, "--out", str(tmp_path / "x.json"), "--from", "2026-03-20", "--to", "2026-03-10"]
        )
        == 2
    )
    assert capsys.readouterr().err == (
        "backcare: error: --from: '2026-03-20' is not allowed; "
        "expected a day on or before --to (2026-03-10)\n"
    )
    assert not [p.name for p in tmp_path.iterdir() if not p.name.startswith("store.db")]
    with open_store(sqlite_url) as store:
        assert row_counts(store) == before


def test_questionnaire_totals_are_observations(store, used):
    """An RMDQ with 7 'yes' of 24 and a GROC of +3, answered on 29 March 2026 in Madrid."""
    import datetime as dt

    at = dt.datetime(2026, 3, 29, 7, 30, 0, 125000, tzinfo=dt.UTC)  # 09:30 in Madrid (CEST)
    store.save_questionnaire("maria", "rmdq", [True] * 7 + [False] * 17, recorded_at=at)
    store.save_questionnaire("maria", "groc", 3, recorded_at=at, author="Ana")
    bundle = fhir_bundle(store, "maria")
    Bundle.model_validate(bundle)
    totals = {
        o["code"]["coding"][0]["code"]: o
        for o in resources(bundle, "Observation")
        if o["code"]["coding"][0]["system"] == "urn:backcare:questionnaire"
    }
    assert set(totals) == {"rmdq", "groc"}
    assert totals["rmdq"]["valueQuantity"]["value"] == 7.0
    assert totals["groc"]["valueQuantity"]["value"] == 3.0
    assert totals["rmdq"]["effectiveDateTime"] == "2026-03-29T09:30:00.125000+02:00"
    assert totals["groc"]["performer"] == [{"display": "Ana"}]
    assert "performer" not in totals["rmdq"]
