"""Patient bundles: one patient's data as a zip of documented CSV files plus a manifest.

A bundle holds patient.csv, programmes.csv, sessions.csv, items.csv, pain.csv,
annotations.csv and manifest.json (format, bundle and schema versions, row counts and the
SHA-256 of every file). Import checks every checksum and column before writing anything,
and skips rows already in the target store, so importing twice duplicates nothing.

Pseudonymised bundles are made by backcare.reports.privacy, the pseudonymiser reports use
too: the patient id and every record id become keyed hashes (a secret kept in the exporting
store, so the same patient always gets the same pseudonym and nobody without the store can
reverse it), the name is dropped, free text (notes, annotation text) left out unless asked,
and every date can be shifted so the first day falls in the week of 2000-01-03: weekdays,
and so weekly adherence, are kept; the calendar is not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pandas as pd

from backcare.errors import BundleError, NotFoundError, ValidationError
from backcare.store import Store
from backcare.store import schema as S
from backcare.store.bulk import (
    ANNOTATION_COLUMNS,
    ITEM_COLUMNS,
    PAIN_COLUMNS,
    PATIENT_COLUMNS,
    PROGRAMME_COLUMNS,
    SESSION_COLUMNS,
    load_frames,
)

FORMAT = "backcare-bundle"
BUNDLE_VERSION = 1

COLUMNS: dict[str, list[str]] = {
    "patient.csv": PATIENT_COLUMNS,
    "programmes.csv": PROGRAMME_COLUMNS,
    "sessions.csv": SESSION_COLUMNS,
    "items.csv": ITEM_COLUMNS,
    "pain.csv": PAIN_COLUMNS,
    "annotations.csv": ANNOTATION_COLUMNS,
}

COLUMN_DOCS = {
    "patient_id": "patient identifier (a pseudonym in pseudonymised bundles)",
    "name": "patient's display name (empty in pseudonymised bundles)",
    "timezone": "IANA time zone; the day of a session is the local date there",
    "programme_key": "identifier of a programme within this bundle",
    "valid_from": "first day (YYYY-MM-DD) the programme is in force",
    "author": "who wrote the programme or annotation",
    "note": "free-text note on the programme",
    "exercise_id": "catalog exercise id (see backcare/data/catalog.toml)",
    "sets": "sets prescribed or done",
    "reps": "repetitions prescribed or done",
    "hold_s": "seconds held, prescribed or done",
    "minutes": "minutes prescribed or done",
    "each_side": "true if the dose is done on each side",
    "times_per_week": "prescribed sessions per week",
    "session_id": "session identifier",
    "day": "local date (YYYY-MM-DD) the record counts for",
    "started_at": "UTC start time (ISO 8601)",
    "ended_at": "UTC end time (ISO 8601)",
    "pain_before": "pain before the session, 0-10 numeric rating scale",
    "pain_after": "pain after the session, 0-10 numeric rating scale",
    "notes": "the person's free-text notes (left out of pseudonymised bundles unless asked)",
    "red_flags": "comma-separated red-flag codes ticked for the session",
    "done": "true if the exercise was done",
    "pain_id": "pain score identifier",
    "recorded_at": "UTC time the pain score was recorded",
    "score": "pain, 0-10 numeric rating scale",
    "context": "when the score was taken (morning, evening, ...)",
    "annotation_id": "annotation identifier",
    "kind": "note, programme-change, flare-up or milestone",
    "text": "annotation text (left out of pseudonymised bundles unless asked)",
    "created_at": "UTC time the annotation was written",
}


def patient_frames(store: Store, patient_id: str, start=None, end=None) -> dict[str, pd.DataFrame]:
    """A patient's data as the bundle's frames (one per CSV file)."""
    pts = store.patients()
    row = pts[pts["patient_id"] == patient_id]
    if row.empty:
        raise NotFoundError("patient_id", patient_id, "a patient already in the store")
    pres = store.prescriptions(patient_id)
    programmes = pres.assign(programme_key=pres["programme_id"].astype(str))[PROGRAMME_COLUMNS]
    items = store.items(patient_id, start, end)
    return {
        "patient.csv": row[PATIENT_COLUMNS].reset_index(drop=True),
        "programmes.csv": programmes,
        "sessions.csv": store.sessions(patient_id, start, end)[SESSION_COLUMNS],
        "items.csv": items[ITEM_COLUMNS],
        "pain.csv": store.pain(patient_id, start, end)[PAIN_COLUMNS],
        "annotations.csv": store.annotations(patient_id, start, end)[ANNOTATION_COLUMNS],
    }


KINDS = {  # the kind of data each file holds, as backcare.reports.privacy names them
    "patient.csv": "patients",
    "programmes.csv": "programmes",
    "sessions.csv": "sessions",
    "items.csv": "items",
    "pain.csv": "pain",
    "annotations.csv": "annotations",
}


def pseudonymise_frames(
    frames: dict[str, pd.DataFrame],
    key: bytes,
    *,
    relative_dates: bool = True,
    keep_text: bool = False,
) -> dict[str, pd.DataFrame]:
    """The bundle's frames pseudonymised (backcare.reports.privacy).

    Ids hashed under key, no name, free text left out unless keep_text, dates shifted by whole
    weeks unless relative_dates=False."""
    from backcare.reports.privacy import pseudonym, pseudonymise  # see export_bundle

    alias = pseudonym(key, frames["patient.csv"]["patient_id"].iloc[0])
    out, _ = pseudonymise(
        frames, alias, key=key, relative_dates=relative_dates, keep_text=keep_text, kinds=KINDS
    )
    return out


def _csv_bytes(df: pd.DataFrame) -> bytes:
    df = df.copy()
    for col in df.columns:
        if str(df[col].dtype).startswith("datetime64[ns, UTC]"):
            df[col] = df[col].map(lambda t: "" if pd.isna(t) else t.isoformat())
        elif str(df[col].dtype).startswith("datetime64"):
            df[col] = df[col].dt.strftime("%Y-%m-%d")
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def export_bundle(
    store: Store,
    patient_id: str,
    out: str | Path,
    *,
    pseudonymise: bool = False,
    relative_dates: bool | None = None,
    keep_text: bool | None = None,
    start=None,
    end=None,
) -> dict:
    """Write the patient's bundle (zip) to out; return its manifest."""
    frames = patient_frames(store, patient_id, start, end)
    if pseudonymise:
        # imported here: backcare.reports' __init__ loads plotly and the views, which plain
        # export and import do not need
        from backcare.reports.privacy import pseudonym_key

        frames = pseudonymise_frames(
            frames,
            pseudonym_key(store),
            relative_dates=True if relative_dates is None else relative_dates,
            keep_text=bool(keep_text),
        )
    files = {name: _csv_bytes(df) for name, df in frames.items()}
    manifest = {
        "format": FORMAT,
        "bundle_version": BUNDLE_VERSION,
        "schema_version": S.SCHEMA_VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "patient_id": frames["patient.csv"]["patient_id"].iloc[0],
        "pseudonymised": pseudonymise,
        "relative_dates": bool(pseudonymise and (relative_dates is None or relative_dates)),
        "free_text": (not pseudonymise) or bool(keep_text),
        "files": {
            name: {
                "sha256": hashlib.sha256(data).hexdigest(),
                "rows": len(frames[name]),
                "columns": {c: COLUMN_DOCS[c] for c in COLUMNS[name]},
            }
            for name, data in files.items()
        },
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
        for name, data in files.items():
            zf.writestr(name, data)
    tmp.replace(out)  # never leave a half-written bundle under the final name
    return manifest


def read_bundle(path: str | Path) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Open and verify a bundle; return (manifest, frames). Raises BundleError if damaged."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BundleError(f"{path}: not a readable bundle ({exc})") from None
    with zf:
        names = set(zf.namelist())
        if "manifest.json" not in names:
            raise BundleError(f"{path}: manifest.json is missing; this is not a backcare bundle")
        try:
            manifest = json.loads(zf.read("manifest.json"))
        except (ValueError, zipfile.BadZipFile, OSError) as exc:
            raise BundleError(f"{path}: manifest.json is damaged ({exc})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BundleError(f"{path}: format is not {FORMAT!r}")
        if manifest.get("bundle_version") != BUNDLE_VERSION:
            raise BundleError(
                f"{path}: bundle_version {manifest.get('bundle_version')!r} is not supported "
                f"(this backcare reads version {BUNDLE_VERSION})"
            )
        listed = manifest.get("files")
        if not isinstance(listed, dict) or set(listed) != set(COLUMNS):
            raise BundleError(f"{path}: the manifest must list exactly {', '.join(COLUMNS)}")
        extra = names - set(COLUMNS) - {"manifest.json"}
        if extra:
            raise BundleError(f"{path}: unexpected files {sorted(extra)}")
        frames = {}
        for name, cols in COLUMNS.items():
            try:
                data = zf.read(name)
            except (KeyError, zipfile.BadZipFile, OSError) as exc:
                raise BundleError(f"{path}: {name} is missing or damaged ({exc})") from None
            if hashlib.sha256(data).hexdigest() != listed[name].get("sha256"):
                raise BundleError(
                    f"{path}: {name} does not match its checksum; the bundle was altered or damaged"
                )
            df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
            if list(df.columns) != cols:
                raise BundleError(f"{path}: {name} has columns {list(df.columns)}; expected {cols}")
            if len(df) != listed[name].get("rows"):
                raise BundleError(
                    f"{path}: {name} has {len(df)} rows; "
                    f"the manifest says {listed[name].get('rows')}"
                )
            frames[name] = df.replace("", None)
    return manifest, frames


def _typed(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Frames from CSV text to the types load_frames expects (bad values stay, refused there)."""
    f = {k: v.copy() for k, v in frames.items()}
    f["patient.csv"]["name"] = f["patient.csv"]["name"].fillna("")
    for name, cols in (
        ("sessions.csv", ["notes", "red_flags"]),
        ("pain.csv", ["context"]),
        ("annotations.csv", ["author"]),
        ("programmes.csv", ["author", "note"]),
    ):
        for col in cols:
            f[name][col] = f[name][col].fillna("")
    f["items.csv"]["done"] = f["items.csv"]["done"].map(
        lambda v: {"True": True, "False": False}.get(v, v)
    )
    for col in ("sets", "reps", "hold_s", "minutes", "times_per_week"):
        f["programmes.csv"][col] = f["programmes.csv"][col].map(_int_or_text).astype(object)
    return f


def _int_or_text(v):
    """'12' -> 12; None stays None; anything else stays as text for validation to refuse."""
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        return v


def import_bundle(store: Store, path: str | Path) -> dict[str, int]:
    """Load a verified bundle into store in one transaction; return rows added per table.

    Rows already in the store (same id, same content) are skipped; a row whose id is stored
    with different content is refused with nothing written."""
    manifest, frames = read_bundle(path)
    if manifest.get("schema_version") not in range(1, S.SCHEMA_VERSION + 1):
        raise BundleError(
            f"{path}: schema_version {manifest.get('schema_version')!r} is newer than this store's"
        )
    f = _typed(frames)
    patient = f["patient.csv"]
    if len(patient) != 1:
        raise BundleError(f"{path}: patient.csv must hold exactly one patient")
    pid = patient["patient_id"].iloc[0]
    for name in ("programmes.csv", "sessions.csv", "pain.csv", "annotations.csv"):
        others = set(f[name]["patient_id"].dropna()) - {pid}
        if others:
            raise BundleError(
                f"{path}: {name} holds rows of another patient ({sorted(others)[0]!r})"
            )
    existing = _existing(store, pid)
    keep = {}
    for name, id_col in (
        ("sessions.csv", "session_id"),
        ("pain.csv", "pain_id"),
        ("annotations.csv", "annotation_id"),
    ):
        df = f[name]
        dup = df[id_col].isin(existing[name].index)
        if dup.any():
            _check_same(path, name, id_col, df[dup], existing[name])
        keep[name] = df[~dup]
    items = f["items.csv"][f["items.csv"]["session_id"].isin(keep["sessions.csv"]["session_id"])]
    try:
        return load_frames(
            store,
            patients=patient,
            programmes=f["programmes.csv"],
            sessions=keep["sessions.csv"],
            items=items,
            pain=keep["pain.csv"],
            annotations=keep["annotations.csv"],
        )
    except ValidationError as exc:
        raise BundleError(f"{path}: {exc}") from None


def _existing(store: Store, patient_id: str) -> dict[str, pd.DataFrame]:
    return {
        "sessions.csv": _as_text(store.sessions(patient_id)[SESSION_COLUMNS]).set_index(
            "session_id"
        ),
        "pain.csv": _as_text(store.pain(patient_id)[PAIN_COLUMNS]).set_index("pain_id"),
        "annotations.csv": _as_text(store.annotations(patient_id)[ANNOTATION_COLUMNS]).set_index(
            "annotation_id"
        ),
    }


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    """A frame as the strings its CSV export would hold (None for empty)."""
    return pd.read_csv(io.BytesIO(_csv_bytes(df)), dtype=str, keep_default_na=False).replace(
        "", None
    )


def _check_same(path, name: str, id_col: str, incoming: pd.DataFrame, stored: pd.DataFrame) -> None:
    cols = [c for c in incoming.columns if c not in (id_col, "created_at")]
    a = incoming.set_index(id_col)[cols].sort_index().fillna("")
    b = stored.loc[a.index, cols].sort_index().fillna("")
    diff = (a.astype(str) != b.astype(str)).any(axis=1)
    if diff.any():
        first = diff[diff].index[0]
        raise BundleError(
            f"{path}: {name} row {first!r} is already in the store with different content; "
            "nothing was imported"
        )
