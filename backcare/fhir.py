"""One patient's data as an HL7 FHIR R4 Bundle (type ``collection``), written as JSON.

What goes where
- **Patient**: an identifier (system ``urn:backcare:patient``) and the name; pseudonymised
  (backcare.reports.privacy, the one pseudonymiser): the pseudonym as identifier, no name,
  record ids hashed, free text left out, every time reduced to its (shifted) local date and
  shown as a date only, and no timestamp on the Bundle.
- **CarePlan**, one per programme (intent ``plan``; ``active`` while in force, ``completed``
  with its period's end once superseded, ``replaces`` pointing at the one before). Each
  exercise is an ``activity.detail``: the catalog exercise as ``code`` (system
  ``urn:backcare:exercise``), the dose in words as ``description`` and as integer extensions
  (``urn:backcare:fhir:sets``, ``:reps``, ``:hold-seconds``, ``:minutes``, ``:each-side``), and
  the times per week as ``scheduledTiming`` (frequency N per period 1 ``wk``; minutes also as
  the timing's duration).
- **Procedure**, one per session (SNOMED CT 229065009 "Exercise therapy"), ``performedPeriod``
  from start to end, ``basedOn`` the CarePlan in force that day, ``note`` the person's notes.
  Each exercise of the session is a Procedure ``partOf`` it, ``completed`` or ``not-done``, with
  the dose done as a note. A session is something the person *did*, at a time, following a
  plan: that is FHIR's Procedure ("an action that is or was performed on or for a patient ...
  physical therapy"), not an Observation (a measurement or assertion about the patient).
- **Observation** per pain score: LOINC 72514-3 "Pain severity - 0-10 verbal numeric rating
  [Score] - Reported", ``valueQuantity`` with UCUM unit ``{score}``, ``effectiveDateTime`` in the
  patient's time zone with its real offset (microseconds kept). Scores before and after a
  session are ``partOf`` its Procedure, taken at its start and end (the session's day when the
  time is unknown); quick pain scores carry their context (morning, ...) as a note.
- **Observation** per questionnaire response: its total score (RMDQ 0-24, PSFS mean 0-10,
  GROC -7..+7) as ``valueQuantity`` ``{score}``, coded in backcare's own system
  (``urn:backcare:questionnaire``, code ``rmdq``/``psfs``/``groc``) with the instrument's name
  as text: no LOINC code is claimed, as none was verified for these totals; the answers
  themselves stay in backcare's bundles.

Resource ids are UUIDs derived from the (pseudonymised) record ids, so exporting twice gives
the same ids; references are ``urn:uuid:`` full URLs, resolved inside the bundle.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zoneinfo
from pathlib import Path
from typing import Any

import pandas as pd

from backcare.domain.catalog import dosage_words
from backcare.errors import NotFoundError
from backcare.store import Store

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
PAIN_CODE = "72514-3"
PAIN_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
EXERCISE_THERAPY = ("229065009", "Exercise therapy")
EXERCISE_SYSTEM = "urn:backcare:exercise"
PATIENT_SYSTEM = "urn:backcare:patient"
QUESTIONNAIRE_SYSTEM = "urn:backcare:questionnaire"
EXTENSION = "urn:backcare:fhir:"
_NAMESPACE = uuid.UUID("6f0c1c1e-7a4e-4c55-9d0b-2b8a7d1c3e11")  # backcare's, for uuid5 ids

_OBSERVATION_CATEGORY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ]
}


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def _ref(resource_id: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}"}


def _local(ts: Any, tz: zoneinfo.ZoneInfo) -> str:
    """A UTC timestamp as a FHIR dateTime in the patient's zone with its offset, e.g.
    2026-03-14T23:41:07.123456+01:00."""
    return pd.Timestamp(ts).tz_convert(tz).isoformat()


def _day(ts: Any) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


def _int(v: Any) -> int | None:
    return None if pd.isna(v) else int(v)


def patient_frames(
    store: Store, patient_id: str, start: Any = None, end: Any = None
) -> dict[str, pd.DataFrame]:
    """The patient's rows by kind (patients, programmes, sessions, items, pain), as the
    store reads them; sessions, items and pain limited to [start, end] if given."""
    row = store.patient(patient_id)
    if row is None:
        raise NotFoundError("patient_id", patient_id, "a patient already in the store")
    patients = pd.DataFrame([{k: row[k] for k in ("patient_id", "name", "timezone")}])
    return {
        "patients": patients,
        "programmes": store.prescriptions(patient_id),
        "sessions": store.sessions(patient_id, start, end),
        "items": store.items(patient_id, start, end),
        "pain": store.pain(patient_id, start, end),
        "questionnaires": store.questionnaires(patient_id, start, end),
    }


def fhir_bundle(
    store: Store,
    patient_id: str,
    *,
    pseudonymise: bool = False,
    relative_dates: bool = True,
    keep_text: bool = False,
    start: Any = None,
    end: Any = None,
) -> dict[str, Any]:
    """The patient's FHIR R4 Bundle (type collection) as a JSON-ready dict.

    pseudonymise: through backcare.reports.privacy (pseudonym, no name, record ids hashed,
    free text left out unless keep_text, dates shifted by whole weeks unless relative_dates
    is False); the bundle then has no timestamp of its own."""
    frames = patient_frames(store, patient_id, start, end)
    if pseudonymise:
        from backcare.reports.privacy import pseudonym, pseudonym_key
        from backcare.reports.privacy import pseudonymise as pseudonymised

        key = pseudonym_key(store)
        frames, _ = pseudonymised(
            frames,
            pseudonym(key, patient_id),
            key=key,
            relative_dates=relative_dates,
            keep_text=keep_text,
        )
    # pseudonymised times are cut to their local date (at 00:00 UTC): shown as that date
    return bundle_from_frames(
        frames,
        store.catalog,
        timestamp=not pseudonymise,
        times=not pseudonymise,
        authors=not pseudonymise,
    )


def bundle_from_frames(
    frames: dict[str, pd.DataFrame],
    catalog: Any,
    *,
    timestamp: bool = True,
    times: bool = True,
    authors: bool = True,
) -> dict[str, Any]:
    """The FHIR Bundle of frames as patient_frames returns them (possibly pseudonymised).

    times=False: every time is shown as its date only (pseudonymised frames hold each time as
    00:00 UTC of its local date); authors=False leaves out who entered a questionnaire (a
    clinician's name would point to the clinic)."""
    pat = frames["patients"].iloc[0]
    pid = str(pat["patient_id"])
    zone = zoneinfo.ZoneInfo(str(pat["timezone"]))

    def shown(ts: Any) -> str:
        return _local(ts, zone) if times else _day(ts)

    patient_uuid = _uuid("Patient", pid)
    subject = _ref(patient_uuid)
    entries: list[dict[str, Any]] = []

    def add(resource_type: str, rid: str, body: dict[str, Any]) -> None:
        entries.append(
            {
                "fullUrl": f"urn:uuid:{rid}",
                "resource": {"resourceType": resource_type, "id": rid, **body},
            }
        )

    patient: dict[str, Any] = {"identifier": [{"system": PATIENT_SYSTEM, "value": pid}]}
    if str(pat["name"]):
        patient["name"] = [{"text": str(pat["name"])}]
    add("Patient", patient_uuid, patient)

    def exercise(eid: str) -> dict[str, Any]:
        name = catalog[eid].name if eid in catalog else eid
        return {"coding": [{"system": EXERCISE_SYSTEM, "code": eid, "display": name}], "text": name}

    # ---- programmes as care plans ----
    plan_of: dict[int, str] = {}
    previous: str | None = None
    progs = frames["programmes"]
    for n, (_, items) in enumerate(progs.groupby("programme_id", sort=False)):
        first = items.iloc[0]
        rid = _uuid("CarePlan", pid, n)
        plan_of[int(first["programme_id"])] = rid
        in_force = pd.isna(first["valid_to"])
        period = {"start": _day(first["valid_from"])}
        if not in_force:
            period["end"] = _day(first["valid_to"])
        plan: dict[str, Any] = {
            "status": "active" if in_force else "completed",
            "intent": "plan",
            "title": "Exercise programme for back pain",
            "subject": subject,
            "period": period,
            "activity": [
                {"detail": _activity(row, exercise(str(row["exercise_id"])), in_force)}
                for _, row in items.sort_values("position").iterrows()
            ],
        }
        if str(first["author"]):
            plan["author"] = {"display": str(first["author"])}
        if str(first["note"]):
            plan["note"] = [{"text": str(first["note"])}]
        if previous is not None:
            plan["replaces"] = [_ref(previous)]
        add("CarePlan", rid, plan)
        previous = rid

    # ---- sessions as procedures, their pain scores as observations ----
    items_of = {sid: df for sid, df in frames["items"].groupby("session_id", sort=False)}
    for _, s in frames["sessions"].iterrows():
        sid = str(s["session_id"])
        rid = _uuid("Procedure", pid, sid)
        items = items_of.get(sid, frames["items"].iloc[0:0])
        proc: dict[str, Any] = {
            "identifier": [{"system": "urn:backcare:session", "value": sid}],
            "status": "completed" if bool(items["done"].any()) else "not-done",
            "code": {
                "coding": [
                    {"system": SNOMED, "code": EXERCISE_THERAPY[0], "display": EXERCISE_THERAPY[1]}
                ],
                "text": "Exercise session",
            },
            "subject": subject,
        }
        if pd.notna(s["started_at"]):
            performed = {"start": shown(s["started_at"])}
            if pd.notna(s["ended_at"]):
                performed["end"] = shown(s["ended_at"])
            proc["performedPeriod"] = performed
        else:
            proc["performedDateTime"] = _day(s["day"])
        programme_id = _int(s["programme_id"])
        if programme_id in plan_of:
            proc["basedOn"] = [_ref(plan_of[programme_id])]
        if str(s["notes"]):
            proc["note"] = [{"text": str(s["notes"])}]
        add("Procedure", rid, proc)
        for _, it in items.iterrows():
            dose = dosage_words(
                sets=_int(it["sets"]),
                reps=_int(it["reps"]),
                hold_s=_int(it["hold_s"]),
                minutes=_int(it["minutes"]),
            )
            add(
                "Procedure",
                _uuid("Procedure", pid, sid, it["exercise_id"]),
                {
                    "status": "completed" if bool(it["done"]) else "not-done",
                    "partOf": [_ref(rid)],
                    "code": exercise(str(it["exercise_id"])),
                    "subject": subject,
                    **({"note": [{"text": f"done: {dose}"}]} if bool(it["done"]) else {}),
                },
            )
        for when, col, time_col in (
            ("before", "pain_before", "started_at"),
            ("after", "pain_after", "ended_at"),
        ):
            score = _int(s[col])
            if score is None:
                continue
            effective = shown(s[time_col]) if pd.notna(s[time_col]) else _day(s["day"])
            obs = _pain(subject, score, effective, f"{sid}:{when}", f"{when} the session")
            obs["partOf"] = [_ref(rid)]
            add("Observation", _uuid("Observation", pid, sid, when), obs)
    for _, p in frames["pain"].iterrows():
        note = f"recorded: {p['context']}" if str(p["context"]) else "recorded outside a session"
        obs = _pain(subject, int(p["score"]), shown(p["recorded_at"]), str(p["pain_id"]), note)
        add("Observation", _uuid("Observation", pid, p["pain_id"]), obs)

    for _, q in frames.get("questionnaires", pd.DataFrame()).iterrows():
        add(
            "Observation",
            _uuid("Observation", pid, q["response_id"]),
            _questionnaire(subject, q, shown(q["recorded_at"]), authors),
        )

    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": _uuid("Bundle", pid),
        "type": "collection",
    }
    if timestamp:
        bundle["timestamp"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    bundle["entry"] = entries
    return bundle


def _activity(row: pd.Series, code: dict[str, Any], in_force: bool) -> dict[str, Any]:
    """A CarePlan activity detail: the exercise, its dose and its times per week."""
    dose = {
        "sets": _int(row["sets"]),
        "reps": _int(row["reps"]),
        "hold-seconds": _int(row["hold_s"]),
        "minutes": _int(row["minutes"]),
    }
    words = dosage_words(
        sets=dose["sets"],
        reps=dose["reps"],
        hold_s=dose["hold-seconds"],
        minutes=dose["minutes"],
        each_side=bool(row["each_side"]),
    )
    per_week = int(row["times_per_week"])
    repeat: dict[str, Any] = {"frequency": per_week, "period": 1, "periodUnit": "wk"}
    if dose["minutes"] is not None:
        repeat.update(duration=dose["minutes"], durationUnit="min")
    extension = [
        {"url": EXTENSION + k, "valueInteger": v} for k, v in dose.items() if v is not None
    ]
    extension.append({"url": EXTENSION + "each-side", "valueBoolean": bool(row["each_side"])})
    return {
        "extension": extension,
        "code": code,
        "status": "in-progress" if in_force else "stopped",
        "scheduledTiming": {"repeat": repeat},
        "description": f"{words}, {per_week} times a week",
    }


def _pain(
    subject: dict[str, str], score: int, effective: str, record_id: str, note: str
) -> dict[str, Any]:
    return {
        "identifier": [{"system": "urn:backcare:pain", "value": record_id}],
        "status": "final",
        "category": [_OBSERVATION_CATEGORY],
        "code": {
            "coding": [{"system": LOINC, "code": PAIN_CODE, "display": PAIN_DISPLAY}],
            "text": "Pain (0-10)",
        },
        "subject": subject,
        "effectiveDateTime": effective,
        "valueQuantity": {"value": score, "unit": "{score}", "system": UCUM, "code": "{score}"},
        "note": [{"text": note}],
    }


def _questionnaire(
    subject: dict[str, str], q: pd.Series, effective: str, authors: bool
) -> dict[str, Any]:
    """An Observation of one questionnaire response's total score."""
    from backcare.domain.questionnaires import INSTRUMENTS

    code = str(q["instrument"])
    name = INSTRUMENTS[code].name if code in INSTRUMENTS else code
    obs: dict[str, Any] = {
        "identifier": [
            {"system": "urn:backcare:questionnaire-response", "value": q["response_id"]}
        ],
        "status": "final",
        "category": [_OBSERVATION_CATEGORY],
        "code": {
            "coding": [{"system": QUESTIONNAIRE_SYSTEM, "code": code, "display": name}],
            "text": f"{name}: total score",
        },
        "subject": subject,
        "effectiveDateTime": effective,
        "valueQuantity": {
            "value": float(q["score"]),
            "unit": "{score}",
            "system": UCUM,
            "code": "{score}",
        },
    }
    if authors and str(q.get("author", "")):
        obs["performer"] = [{"display": str(q["author"])}]
    return obs


def write_fhir(
    store: Store, patient_id: str, out: str | Path, *, field: str = "out", **options: Any
) -> dict[str, Any]:
    """Write the patient's FHIR Bundle as JSON to out (never half-written); return the bundle.

    field names out in error messages (the CLI's '--out')."""
    from backcare.domain.rules import check_out_file

    path = check_out_file(field, out)
    bundle = fhir_bundle(store, patient_id, **options)
    data = json.dumps(bundle, indent=2, ensure_ascii=False)
    _write_text(path, data, field)
    return bundle


def _write_text(path: Path, data: str, field: str) -> None:
    from backcare.errors import ValidationError

    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(data, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ValidationError(
            field, str(path), f"a file that can be written ({exc.strerror or exc})"
        ) from None
