"""Patient bundles: one patient's data as a Frictionless Data Package in a zip.

A bundle holds one CSV file per table of ``TABLES`` (patient, programmes, sessions, items,
pain, annotations, questionnaires) and ``datapackage.json``: a Tabular Data Package
(https://specs.frictionlessdata.io/tabular-data-package/) whose resources give each file's
Table Schema (types, required fields, 0-10 pain and other ranges, allowed values, primary and
foreign keys), its sha256 hash, its size in bytes and its row count; a ``backcare`` property
carries the format, bundle and schema versions and how the bundle was pseudonymised.
Adding a table to bundles is one more ``Table`` in ``TABLES``.

CSV cells a spreadsheet would run as a formula (OWASP: text starting with =, +, -, @, tab or
carriage return) are written with a single quote in front; text that starts with a quote
gets one more. Import removes exactly one leading quote from every text cell, so the round
trip is exact and unambiguous (``escape_cell`` / ``unescape_cell``).

Import checks everything before writing anything, and refuses the whole bundle with a
one-line message naming the file, the row and the field when: an entry is duplicated, not
listed in datapackage.json or missing; a size is past the limits below (checked on the zip
directory and the descriptor, before anything is decompressed); a hash, size, row count or
column differs; a row belongs to another patient or points to a record that is not in the
bundle (an item whose session is absent); a value breaks a rule of backcare.domain; or a
record already in the store (same id; a session's items included) differs from the bundle's.
Records already stored identically are skipped, so importing twice duplicates nothing.

Pseudonymised bundles are made by backcare.reports.privacy, the pseudonymiser reports use
too (see there for what is hashed, left out, shifted and coarsened).

Questionnaire responses (RMDQ, PSFS, GROC; answers as the store's JSON text) are loaded
through backcare.store.bulk.load_frames with the rest, in its one transaction, each checked and
scored by backcare.domain.questionnaires.validate_response; a score that is not the answers'
score is refused, and so is a response for an instrument and day the store already answers
under another response id.

Bundles of version 1 (``manifest.json``, no formula escaping) and 2 (no questionnaires.csv)
are still read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from backcare.domain.catalog import DOSE_LIMITS
from backcare.domain.programme import SETS_LIMITS, TIMES_PER_WEEK_LIMITS
from backcare.domain.questionnaires import GROC_RANGE, INSTRUMENT_IDS, RMDQ_ITEMS_N
from backcare.domain.session import (
    ANNOTATION_KINDS,
    PAIN_CONTEXTS,
    PAIN_RANGE,
    RED_FLAG_CODES,
    done_dose_limits,
)
from backcare.errors import BundleError, NotFoundError, ValidationError
from backcare.owner_only import create_private, private_dir
from backcare.store import Store
from backcare.store import schema as S
from backcare.store.bulk import (
    ANNOTATION_COLUMNS,
    ITEM_COLUMNS,
    PAIN_COLUMNS,
    PATIENT_COLUMNS,
    PROGRAMME_COLUMNS,
    QUESTIONNAIRE_COLUMNS,
    SESSION_COLUMNS,
    load_frames,
)

FORMAT = "backcare-bundle"
# 3: questionnaires.csv; 2: datapackage.json and formula escaping; 1: manifest.json
BUNDLE_VERSION = 3
READ_VERSIONS = (1, 2, 3)
DESCRIPTOR = "datapackage.json"
OLD_MANIFEST = "manifest.json"

# Limits checked on the zip directory and the descriptor before anything is decompressed.
MAX_DESCRIPTOR_BYTES = 1 << 20  # 1 MiB
MAX_ENTRY_BYTES = 64 << 20  # 64 MiB uncompressed per CSV file
MAX_TOTAL_BYTES = 128 << 20  # 128 MiB uncompressed in all
MAX_ROWS = 1_000_000  # rows per file (ten years of daily sessions are ~40 000 item rows)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection
ESCAPE = "'"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # entries carry no real date


def escape_cell(text: str) -> str:
    """text as a CSV cell no spreadsheet runs as a formula: a quote in front of text starting
    with =, +, -, @, tab, carriage return or a quote; anything else unchanged."""
    return ESCAPE + text if text.startswith((*FORMULA_START, ESCAPE)) else text


def unescape_cell(text: str) -> str:
    """The text escape_cell was given: one leading quote removed, if there is one."""
    return text[1:] if text.startswith(ESCAPE) else text


# ---- the tables ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """One column: its Table Schema type, description and constraints."""

    name: str
    type: str  # Table Schema type: string, integer, number, boolean, date, datetime
    description: str
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    since: int = 1  # the bundle version that added the column

    def descriptor(self) -> dict[str, Any]:
        c: dict[str, Any] = {}
        if self.required:
            c["required"] = True
        if self.minimum is not None:
            c["minimum"] = self.minimum
        if self.maximum is not None:
            c["maximum"] = self.maximum
        if self.enum is not None:
            c["enum"] = list(self.enum)
        if self.pattern is not None:
            c["pattern"] = self.pattern
        d: dict[str, Any] = {"name": self.name, "type": self.type, "description": self.description}
        if self.type == "boolean":
            d["trueValues"], d["falseValues"] = ["True"], ["False"]
        if c:
            d["constraints"] = c
        return d


Reader = Callable[[Store, str, Any, Any], pd.DataFrame]


@dataclass(frozen=True)
class Table:
    """One CSV file of a bundle: its resource name (also its kind for backcare.reports.privacy),
    columns, keys and how to read it from a store."""

    name: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    read: Reader
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (column, table, its column)
    id_column: str | None = None  # the id compared with the store's rows on import
    parent: tuple[str, str] | None = None  # (column, table): rows belong to that table's rows
    extra: dict[str, Any] = field(default_factory=dict)
    since: int = 1  # the bundle version that added the table

    @property
    def path(self) -> str:
        return f"{self.name}.csv"

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def columns_of(self, version: int) -> list[str]:
        """The columns a bundle of that version has."""
        return [f.name for f in self.fields if f.since <= version]

    def text_columns(self) -> list[str]:
        return [f.name for f in self.fields if f.type == "string"]


def _read_patient(store: Store, pid: str, start: Any, end: Any) -> pd.DataFrame:
    pts = store.patients()
    row = pts[pts["patient_id"] == pid]
    if row.empty:
        raise NotFoundError("patient_id", pid, "a patient already in the store")
    return row[PATIENT_COLUMNS].reset_index(drop=True)


def _read_programmes(store: Store, pid: str, start: Any, end: Any) -> pd.DataFrame:
    """Every programme of the patient (also one superseded on its own start day, which
    sessions may have been saved under), item by item."""
    p, i = S.programmes, S.programme_items
    q = (
        sa.select(
            sa.cast(p.c.programme_id, sa.String).label("programme_key"),
            p.c.patient_id,
            p.c.valid_from,
            p.c.author,
            p.c.note,
            *(i.c[c] for c in PROGRAMME_COLUMNS[5:]),
        )
        .select_from(p.join(i, i.c.programme_id == p.c.programme_id))
        .where(p.c.patient_id == pid)
        .order_by(p.c.valid_from, p.c.programme_id, i.c.position)
    )
    with store.engine.connect() as conn:
        df = pd.DataFrame([tuple(r) for r in conn.execute(q)], columns=PROGRAMME_COLUMNS)
    return df.assign(valid_from=pd.to_datetime(df["valid_from"]))


def _read_sessions(store: Store, pid: str, start: Any, end: Any) -> pd.DataFrame:
    df = store.sessions(pid, start, end)
    key = df["programme_id"].map(lambda v: None if pd.isna(v) else str(int(v)))
    return df[SESSION_COLUMNS].assign(programme_key=key).reset_index(drop=True)


def _reader(method: str, columns: list[str]) -> Reader:
    def read(store: Store, pid: str, start: Any, end: Any) -> pd.DataFrame:
        return getattr(store, method)(pid, start, end)[columns].reset_index(drop=True)

    return read


_PID = Field(
    "patient_id", "string", "patient identifier (a pseudonym in pseudonymised bundles)", True
)
_DAY = Field("day", "date", "local date (YYYY-MM-DD) the record counts for", True)
_FLAGS = "|".join(re.escape(c) for c in RED_FLAG_CODES)


def _dose(name: str, what: str, limits: tuple[int, int]) -> Field:
    return Field(name, "integer", what, minimum=limits[0], maximum=limits[1])


TABLES: tuple[Table, ...] = (
    Table(
        "patient",
        (
            _PID,
            Field("name", "string", "patient's display name (empty in pseudonymised bundles)"),
            Field("timezone", "string", "IANA time zone; a record's day is its local date", True),
        ),
        ("patient_id",),
        _read_patient,
    ),
    Table(
        "programmes",
        (
            Field("programme_key", "string", "identifier of a programme within this bundle", True),
            _PID,
            Field("valid_from", "date", "first day (YYYY-MM-DD) the programme is in force", True),
            Field("author", "string", "who wrote the programme"),
            Field("note", "string", "free-text note on the programme"),
            Field(
                "exercise_id", "string", "catalog exercise id (backcare/data/catalog.toml)", True
            ),
            _dose("sets", "sets prescribed", SETS_LIMITS),
            _dose("reps", "repetitions prescribed", DOSE_LIMITS["reps"]),
            _dose("hold_s", "seconds held, prescribed", DOSE_LIMITS["hold_s"]),
            _dose("minutes", "minutes prescribed", DOSE_LIMITS["minutes"]),
            Field("each_side", "boolean", "True if the dose is done on each side", True),
            Field(
                "times_per_week",
                "integer",
                "prescribed sessions per week",
                True,
                *TIMES_PER_WEEK_LIMITS,
            ),
        ),
        ("programme_key", "exercise_id"),
        _read_programmes,
        foreign_keys=(("patient_id", "patient", "patient_id"),),
    ),
    Table(
        "sessions",
        (
            Field("session_id", "string", "session identifier", True),
            _PID,
            _DAY,
            Field("started_at", "datetime", "UTC start time (ISO 8601)"),
            Field("ended_at", "datetime", "UTC end time (ISO 8601)"),
            Field(
                "pain_before",
                "integer",
                "pain before, 0-10 numeric rating scale",
                False,
                *PAIN_RANGE,
            ),
            Field(
                "pain_after", "integer", "pain after, 0-10 numeric rating scale", False, *PAIN_RANGE
            ),
            Field(
                "notes", "string", "the person's notes (left out when pseudonymised unless asked)"
            ),
            Field(
                "red_flags",
                "string",
                "comma-separated red-flag codes ticked for the session",
                pattern=f"({_FLAGS})(,({_FLAGS}))*",
            ),
            Field(
                "programme_key",
                "string",
                "the programme the session was saved under (programmes.programme_key)",
                since=2,
            ),
        ),
        ("session_id",),
        _read_sessions,
        foreign_keys=(
            ("patient_id", "patient", "patient_id"),
            ("programme_key", "programmes", "programme_key"),
        ),
        id_column="session_id",
    ),
    Table(
        "items",
        (
            Field("session_id", "string", "the session this exercise belongs to", True),
            Field(
                "exercise_id", "string", "catalog exercise id (backcare/data/catalog.toml)", True
            ),
            Field("done", "boolean", "True if the exercise was done", True),
            _dose("sets", "sets done", SETS_LIMITS),
            _dose("reps", "repetitions done", done_dose_limits("reps")),
            _dose("hold_s", "seconds held", done_dose_limits("hold_s")),
            _dose("minutes", "minutes done", done_dose_limits("minutes")),
        ),
        ("session_id", "exercise_id"),
        _reader("items", ITEM_COLUMNS),
        foreign_keys=(("session_id", "sessions", "session_id"),),
        parent=("session_id", "sessions"),
    ),
    Table(
        "pain",
        (
            Field("pain_id", "string", "pain score identifier", True),
            _PID,
            Field("recorded_at", "datetime", "UTC time the score was recorded (ISO 8601)", True),
            _DAY,
            Field("score", "integer", "pain, 0-10 numeric rating scale", True, *PAIN_RANGE),
            Field("context", "string", "when the score was taken", enum=PAIN_CONTEXTS[1:]),
        ),
        ("pain_id",),
        _reader("pain", PAIN_COLUMNS),
        foreign_keys=(("patient_id", "patient", "patient_id"),),
        id_column="pain_id",
    ),
    Table(
        "annotations",
        (
            Field("annotation_id", "string", "annotation identifier", True),
            _PID,
            _DAY,
            Field("author", "string", "who wrote the annotation"),
            Field("kind", "string", "what the annotation marks", True, enum=ANNOTATION_KINDS),
            Field(
                "text", "string", "annotation text (left out when pseudonymised unless asked)", True
            ),
            Field("created_at", "datetime", "UTC time the annotation was written (ISO 8601)"),
        ),
        ("annotation_id",),
        _reader("annotations", ANNOTATION_COLUMNS),
        foreign_keys=(("patient_id", "patient", "patient_id"),),
        id_column="annotation_id",
    ),
    Table(
        "questionnaires",
        (
            Field("response_id", "string", "questionnaire response identifier", True),
            _PID,
            Field(
                "instrument",
                "string",
                "rmdq (Roland-Morris), psfs (Patient-Specific Functional Scale) or groc "
                "(Global Rating of Change); see backcare.domain.questionnaires",
                True,
                enum=INSTRUMENT_IDS,
            ),
            _DAY,
            Field("recorded_at", "datetime", "UTC time the answers were saved (ISO 8601)", True),
            Field(
                "answers",
                "string",
                "the answers as JSON: rmdq 24 true/false, psfs [activity, 0-10] pairs (the "
                "activities are left out when pseudonymised unless asked), groc one of -7..7",
                True,
            ),
            Field(
                "score",
                "number",
                "the instrument's score: rmdq 0-24, psfs mean 0-10, groc -7..7",
                True,
                GROC_RANGE[0],
                RMDQ_ITEMS_N,
            ),
            Field("author", "string", "who entered the answers (empty: the patient)"),
        ),
        ("response_id",),
        _reader("questionnaires", QUESTIONNAIRE_COLUMNS),
        foreign_keys=(("patient_id", "patient", "patient_id"),),
        id_column="response_id",
        since=3,
    ),
)
BY_NAME = {t.name: t for t in TABLES}
# the kind of data each table holds, as backcare.reports.privacy names them (when not its name)
KINDS = {"patient": "patients"}
LOAD_AS = {"patient": "patients"}  # load_frames' argument for a table (when not its name)


def resource_schema(table: Table) -> dict[str, Any]:
    """The Table Schema of one table."""
    schema: dict[str, Any] = {
        "fields": [f.descriptor() for f in table.fields],
        "missingValues": [""],
        "primaryKey": list(table.primary_key),
    }
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": col, "reference": {"resource": ref, "fields": ref_col}}
            for col, ref, ref_col in table.foreign_keys
        ]
    return schema


# ---- export -------------------------------------------------------------------------------
def patient_frames(store: Store, patient_id: str, start=None, end=None) -> dict[str, pd.DataFrame]:
    """A patient's data as the bundle's frames (one per table, by table name)."""
    return {t.name: t.read(store, patient_id, start, end) for t in TABLES}


def pseudonymise_frames(
    frames: dict[str, pd.DataFrame],
    key: bytes,
    *,
    relative_dates: bool = True,
    keep_text: bool = False,
) -> dict[str, pd.DataFrame]:
    """The bundle's frames pseudonymised by backcare.reports.privacy."""
    from backcare.reports.privacy import pseudonym, pseudonymise  # see export_bundle

    alias = pseudonym(key, frames["patient"]["patient_id"].iloc[0])
    out, _ = pseudonymise(
        frames, alias, key=key, relative_dates=relative_dates, keep_text=keep_text, kinds=KINDS
    )
    return out


def _cell(value: Any, kind: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if kind == "datetime":
        return pd.Timestamp(value).isoformat()
    if kind == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if kind == "boolean":
        return "True" if bool(value) else "False"
    if kind == "integer":
        return str(int(value))
    if kind == "number":
        return repr(float(value))  # the shortest text that reads back as the same float
    return escape_cell(str(value))


def csv_bytes(df: pd.DataFrame, table: Table) -> bytes:
    """A frame as the table's CSV file: ISO 8601 times and dates, text formula-escaped."""
    text = pd.DataFrame(
        {f.name: [_cell(v, f.type) for v in df[f.name]] for f in table.fields},
        columns=table.columns,
    )
    # CRLF line ends (RFC 4180): a field holding a CR or an LF is then always quoted
    return text.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


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
) -> dict[str, Any]:
    """Write the patient's bundle (zip, owner-only) to out; return its datapackage.json."""
    frames = patient_frames(store, patient_id, start, end)
    relative = bool(pseudonymise and (relative_dates is None or relative_dates))
    if pseudonymise:
        # imported here: backcare.reports' __init__ loads plotly and the views, which plain
        # export and import do not need
        from backcare.reports.privacy import pseudonym_key

        frames = pseudonymise_frames(
            frames, pseudonym_key(store), relative_dates=relative, keep_text=bool(keep_text)
        )
    files = {t.path: csv_bytes(frames[t.name], t) for t in TABLES}
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": "backcare-patient-bundle",
        "title": "One patient's back-pain exercise diary (backcare)",
    }
    if not pseudonymise:  # the export time is a real date
        package["created"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    package["backcare"] = {
        "format": FORMAT,
        "bundle_version": BUNDLE_VERSION,
        "schema_version": S.SCHEMA_VERSION,
        "patient_id": str(frames["patient"]["patient_id"].iloc[0]),
        "pseudonymised": pseudonymise,
        "relative_dates": relative,
        "free_text": (not pseudonymise) or bool(keep_text),
        # pseudonymised: every time is 00:00 UTC of its local date (the time of day is dropped)
        "times_of_day": not pseudonymise,
        "csv_escape": "text cells starting with = + - @ tab CR or ' carry one extra leading '",
    }
    package["resources"] = [
        {
            "name": t.name,
            "path": t.path,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "hash": "sha256:" + hashlib.sha256(files[t.path]).hexdigest(),
            "bytes": len(files[t.path]),
            "rows": len(frames[t.name]),
            "schema": resource_schema(t),
        }
        for t in TABLES
    ]
    out = Path(out)
    private_dir(out.parent)
    tmp = out.with_name(out.name + ".part")
    with os.fdopen(create_private(tmp), "wb") as raw, zipfile.ZipFile(raw, "w") as zf:
        for name, data in {DESCRIPTOR: json.dumps(package, indent=2).encode(), **files}.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, data)
    tmp.replace(out)  # never leave a half-written bundle under the final name
    return package


# ---- reading and checking -----------------------------------------------------------------
@dataclass(frozen=True)
class _Entry:
    sha256: str
    rows: int
    bytes: int | None


def _versions() -> str:
    return ", ".join(map(str, READ_VERSIONS[:-1])) + f" and {READ_VERSIONS[-1]}"


def _nonneg_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _entries_v2(where: str, package: Any) -> tuple[dict[str, Any], dict[str, _Entry]]:
    if not isinstance(package, dict) or not isinstance(package.get("backcare"), dict):
        raise BundleError(f"{where}: {DESCRIPTOR} has no backcare property; not a backcare bundle")
    info = package["backcare"]
    if info.get("format") != FORMAT:
        raise BundleError(f"{where}: {DESCRIPTOR} backcare.format is not {FORMAT!r}")
    if info.get("bundle_version") not in READ_VERSIONS[1:]:
        raise BundleError(
            f"{where}: {DESCRIPTOR} backcare.bundle_version {info.get('bundle_version')!r} is not "
            f"supported (this backcare reads versions {_versions()})"
        )
    resources = package.get("resources")
    if not isinstance(resources, list):
        raise BundleError(f"{where}: {DESCRIPTOR} resources: expected a list")
    entries: dict[str, _Entry] = {}
    for i, r in enumerate(resources):
        path = r.get("path") if isinstance(r, dict) else None
        if not isinstance(path, str):
            raise BundleError(f"{where}: {DESCRIPTOR} resources[{i}].path: expected a file name")
        if path in entries:
            raise BundleError(f"{where}: {DESCRIPTOR} resources[{i}].path: {path!r} listed twice")
        digest = r.get("hash")
        if not isinstance(digest, str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            raise BundleError(
                f"{where}: {DESCRIPTOR} resources[{i}].hash: {digest!r}; expected sha256:<64 hex>"
            )
        for key in ("rows", "bytes"):
            if not _nonneg_int(r.get(key)):
                raise BundleError(
                    f"{where}: {DESCRIPTOR} resources[{i}].{key}: {r.get(key)!r}; "
                    "expected a whole number"
                )
        entries[path] = _Entry(digest.removeprefix("sha256:"), r["rows"], r["bytes"])
    return info, entries


def _entries_v1(where: str, manifest: Any) -> tuple[dict[str, Any], dict[str, _Entry]]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{where}: format is not {FORMAT!r}")
    if manifest.get("bundle_version") != 1:
        raise BundleError(
            f"{where}: {OLD_MANIFEST} bundle_version {manifest.get('bundle_version')!r} is not "
            f"supported (this backcare reads versions {_versions()})"
        )
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BundleError(f"{where}: {OLD_MANIFEST} files: expected a mapping")
    entries = {}
    for name, meta in files.items():
        if not isinstance(meta, dict) or not _nonneg_int(meta.get("rows")):
            raise BundleError(f"{where}: {OLD_MANIFEST} files.{name}.rows: expected a number")
        entries[name] = _Entry(str(meta.get("sha256")), meta["rows"], None)
    return manifest, entries


def _read_limited(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    """An entry's bytes, never more than its directory size (a lying entry is refused)."""
    try:
        with zf.open(info) as f:
            data = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
        raise BundleError(f"{where}: {info.filename} is damaged ({exc})") from None
    if len(data) != info.file_size:
        raise BundleError(
            f"{where}: {info.filename} holds {len(data)} bytes; its zip entry says {info.file_size}"
        )
    return data


def read_bundle(path: str | Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Open and verify a bundle; return (backcare info, frames by table name, text as written).

    Raises BundleError (one line naming the file and entry) if damaged, altered or too big."""
    path = Path(path)
    where = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise BundleError(f"{where}: not a readable bundle ({exc})") from None
    with zf:
        infos = zf.infolist()
        known = {t.path for t in TABLES} | {DESCRIPTOR, OLD_MANIFEST}
        for info in infos:
            if info.filename not in known:
                raise BundleError(
                    f"{where}: zip entry {info.filename} is not listed in {DESCRIPTOR}"
                )
        seen: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename in seen:
                raise BundleError(f"{where}: zip entry {info.filename} appears twice")
            seen[info.filename] = info
        version = 2 if DESCRIPTOR in seen else 1 if OLD_MANIFEST in seen else 0
        if not version:
            raise BundleError(f"{where}: {DESCRIPTOR} is missing; this is not a backcare bundle")
        desc_name = DESCRIPTOR if version >= 2 else OLD_MANIFEST
        desc = seen[desc_name]
        if desc.file_size > MAX_DESCRIPTOR_BYTES:
            raise BundleError(
                f"{where}: {desc_name} is {desc.file_size} bytes; at most {MAX_DESCRIPTOR_BYTES}"
            )
        try:
            descriptor = json.loads(_read_limited(zf, desc, where))
        except ValueError as exc:
            raise BundleError(f"{where}: {desc_name} is damaged ({exc})") from None
        info_, entries = (_entries_v2 if version == 2 else _entries_v1)(where, descriptor)
        version = int(info_["bundle_version"])
        tables = [t for t in TABLES if t.since <= version]
        expected = {t.path for t in tables}
        if set(entries) != expected:
            odd = sorted(set(entries) ^ expected)[0]
            raise BundleError(
                f"{where}: {desc_name} lists {odd!r}; a bundle lists exactly "
                + ", ".join(sorted(expected))
            )
        for name in seen:
            if name != desc_name and name not in entries:
                raise BundleError(f"{where}: zip entry {name} is not listed in {desc_name}")
        total = desc.file_size
        for name, entry in entries.items():
            if name not in seen:
                raise BundleError(f"{where}: {name} is missing")
            size = seen[name].file_size
            if entry.bytes is not None and size != entry.bytes:
                raise BundleError(
                    f"{where}: {name} is {size} bytes in the zip; {desc_name} says {entry.bytes}"
                )
            if size > MAX_ENTRY_BYTES:
                raise BundleError(f"{where}: {name} is {size} bytes; at most {MAX_ENTRY_BYTES}")
            if entry.rows > MAX_ROWS:
                raise BundleError(f"{where}: {name} declares {entry.rows} rows; at most {MAX_ROWS}")
            total += size
        if total > MAX_TOTAL_BYTES:
            raise BundleError(
                f"{where}: the bundle is {total} bytes uncompressed; at most {MAX_TOTAL_BYTES}"
            )
        frames = {
            t.name: pd.DataFrame({c: pd.Series(dtype=object) for c in t.columns})
            for t in TABLES
            if t.since > version  # added since the bundle's version: none
        }
        for t in tables:
            entry = entries[t.path]
            data = _read_limited(zf, seen[t.path], where)
            if hashlib.sha256(data).hexdigest() != entry.sha256:
                raise BundleError(
                    f"{where}: {t.path} does not match its sha256; altered or damaged"
                )
            try:
                df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
            except (ValueError, pd.errors.ParserError) as exc:
                raise BundleError(f"{where}: {t.path} is not readable CSV ({exc})") from None
            if list(df.columns) != t.columns_of(version):
                raise BundleError(
                    f"{where}: {t.path} has columns {list(df.columns)}; "
                    f"expected {t.columns_of(version)}"
                )
            for col in t.columns:
                if col not in df:  # added since the bundle's version
                    df[col] = ""

            if len(df) != entry.rows:
                raise BundleError(
                    f"{where}: {t.path} has {len(df)} rows; {desc_name} says {entry.rows}"
                )
            if version >= 2:
                for col in t.text_columns():
                    df[col] = df[col].map(unescape_cell)
            frames[t.name] = df.replace("", None)
    return info_, frames


def _typed(frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Frames from CSV text to the types load_frames expects (bad values stay, refused there):
    empty optional text is '', booleans are bools, programme doses are ints."""
    f = {k: v.copy() for k, v in frames.items()}
    for t in TABLES:
        for fld in t.fields:
            values = f[t.name][fld.name]
            if fld.type == "string" and not fld.required and fld.name != "programme_key":
                f[t.name][fld.name] = values.fillna("")
            elif fld.type == "boolean":
                f[t.name][fld.name] = values.map(lambda v: {"True": True, "False": False}.get(v, v))
    for dose in ("sets", "reps", "hold_s", "minutes", "times_per_week"):
        f["programmes"][dose] = f["programmes"][dose].map(_int_or_text).astype(object)
    return f


def _int_or_text(v: Any) -> Any:
    """'12' -> 12; None stays None; anything else stays as text for validation to refuse."""
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        return v


def import_bundle(store: Store, path: str | Path) -> dict[str, int]:
    """Load a verified bundle into store in one transaction; return rows added per table.

    Records already in the store identically are skipped; anything else that is not exactly
    right refuses the whole bundle with nothing written (see the module docstring)."""
    where = str(path)
    info, frames = read_bundle(path)
    if info.get("schema_version") not in range(1, S.SCHEMA_VERSION + 1):
        raise BundleError(
            f"{where}: schema_version {info.get('schema_version')!r} is newer than this store's"
        )
    patient = frames["patient"]
    if len(patient) != 1:
        raise BundleError(
            f"{where}: patient.csv must hold exactly one patient; it holds {len(patient)}"
        )
    pid = patient["patient_id"].iloc[0]
    for t in TABLES:
        df = frames[t.name]
        if "patient_id" in df and t.name != "patient":
            bad = df["patient_id"].fillna("") != pid
            if bad.any():
                i = int(bad.to_numpy().argmax())
                raise BundleError(
                    f"{where}: {t.path}[{i}].patient_id: {df['patient_id'].iloc[i]!r} is another "
                    f"patient; this bundle is {pid!r}'s"
                )
        for col, ref, ref_col in t.foreign_keys:
            orphan = df[col].notna() & ~df[col].isin(frames[ref][ref_col])
            if orphan.any():
                i = int(orphan.to_numpy().argmax())
                raise BundleError(
                    f"{where}: {t.path}[{i}].{col}: {df[col].iloc[i]!r} is not a {ref_col} of "
                    f"{BY_NAME[ref].path}; nothing was imported"
                )
    _check_patient(store, where, patient.iloc[0])
    _check_programmes(
        where,
        frames["programmes"],
        _as_text(_read_programmes(store, pid, None, None), BY_NAME["programmes"]),
    )
    stored = {
        t.name: _as_text(t.read(store, pid, None, None), t)
        for t in TABLES
        if t.id_column or t.parent
    }
    keep: dict[str, pd.DataFrame] = {}
    for t in TABLES:
        if not t.id_column:
            continue
        df = frames[t.name]
        old = df[t.id_column].isin(stored[t.name][t.id_column])
        if old.any():
            _check_same(where, t, df[old], stored[t.name])
        keep[t.name] = df[~old]
    _check_answered_days(where, keep["questionnaires"], stored["questionnaires"])
    for t in TABLES:  # rows of records already stored must match the stored ones too
        if not t.parent:
            continue
        col, parent = t.parent
        df = frames[t.name]
        old = ~df[col].isin(keep[parent][col])
        parents = set(frames[parent][col]) - set(keep[parent][col])
        _check_children(where, t, df[old], stored[t.name], parents)
        keep[t.name] = df[~old]
    f = _typed({**frames, **keep})
    try:
        return load_frames(store, **{LOAD_AS.get(t.name, t.name): f[t.name] for t in TABLES})
    except ValidationError as exc:
        raise BundleError(f"{where}: {exc}") from None


def _check_patient(store: Store, where: str, row: pd.Series) -> None:
    known = store.patient(str(row["patient_id"]))
    if known is None:
        return
    for col in ("name", "timezone"):
        # an empty cell reads as None, or NaN when the whole column is empty (a pseudonym)
        given = "" if row[col] is None or pd.isna(row[col]) else str(row[col])
        if str(known.get(col) or "") != given:
            raise BundleError(
                f"{where}: patient.csv[0].{col}: {row[col]!r} differs from the store's "
                f"{known.get(col)!r} for this patient; nothing was imported"
            )


def _check_answered_days(where: str, incoming: pd.DataFrame, stored: pd.DataFrame) -> None:
    """A new response for an instrument and day the store already answers (under another
    response id) is refused: the store keeps one response per instrument and day."""
    if incoming.empty or stored.empty:
        return
    have = {
        (str(i), str(d)): str(r)
        for i, d, r in stored[["instrument", "day", "response_id"]].to_numpy().tolist()
    }
    for row, (inst, day) in zip(
        incoming.index, incoming[["instrument", "day"]].to_numpy().tolist(), strict=True
    ):
        got = have.get((str(inst), str(day)))
        if got is not None:
            raise BundleError(
                f"{where}: questionnaires.csv[{row}].day: {day!r} already has a different {inst} "
                f"response in the store (response_id {got!r}); nothing was imported"
            )


def _programme_groups(df: pd.DataFrame) -> dict[str, tuple[str, tuple[tuple[str, ...], ...]]]:
    """programme_key -> (valid_from, its rows without key and patient, as text)."""
    cols = PROGRAMME_COLUMNS[3:]
    return {
        str(key): (
            str(g["valid_from"].iloc[0]),
            tuple(tuple("" if v is None else str(v) for v in r) for r in g[cols].to_numpy()),
        )
        for key, g in df.groupby("programme_key", sort=False)
    }


def _check_programmes(where: str, incoming: pd.DataFrame, stored: pd.DataFrame) -> None:
    """A programme of the bundle starting on a day the store already has programmes for must
    be one of them (same exercises, doses, author and note): else importing it would silently
    replace the stored programme from that day."""
    if incoming.empty or stored.empty:
        return
    have: dict[str, list[tuple[tuple[str, ...], ...]]] = {}
    for day, rows in _programme_groups(stored).values():
        have.setdefault(day, []).append(rows)
    for key, (day, rows) in _programme_groups(incoming).items():
        if day in have and rows not in have[day]:
            i = int((incoming["programme_key"] == key).to_numpy().argmax())
            raise BundleError(
                f"{where}: programmes.csv[{i}].valid_from: the programme from {day} differs "
                "from the one the store holds from that day; nothing was imported"
            )


def _as_text(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """A frame as the strings its CSV export would hold, unescaped (None for empty)."""
    out = pd.DataFrame(
        {f.name: [_cell(v, f.type) for v in df[f.name]] for f in table.fields},
        columns=table.columns,
    )
    for col in table.text_columns():
        out[col] = out[col].map(unescape_cell)
    return out.replace("", None)


def _differs(
    where: str, table: Table, incoming: pd.DataFrame, stored: pd.DataFrame, key: list[str]
) -> None:
    """Refuse the first incoming row whose key is stored with other values."""
    if incoming.empty or stored.empty:
        return
    # programme keys are the exporting store's programme ids: another store numbers its own
    cols = [c for c in table.columns if c not in key and c != "programme_key"]
    stored = stored.astype(object)
    a = incoming.astype(object).reset_index().rename(columns={"index": "_row"})
    merged = a.merge(stored, on=key, how="left", suffixes=("", "_stored"), indicator=True)
    for col in cols:
        x = merged[col].fillna("").astype(str)
        y = merged[f"{col}_stored"].fillna("").astype(str)
        bad = (x != y) & (merged["_merge"] == "both")
        if bad.any():
            r = merged[bad].iloc[0]
            raise BundleError(
                f"{where}: {table.path}[{r['_row']}].{col}: {r[col]!r} differs from the store's "
                f"{r[f'{col}_stored']!r} for {', '.join(f'{k} {r[k]!r}' for k in key)}; "
                "nothing was imported"
            )


def _check_same(where: str, table: Table, incoming: pd.DataFrame, stored: pd.DataFrame) -> None:
    assert table.id_column
    _differs(where, table, incoming, stored, [table.id_column])


def _check_children(
    where: str, table: Table, incoming: pd.DataFrame, stored: pd.DataFrame, parents: set[str]
) -> None:
    """Rows (items) of records already stored: the same set of rows with the same values."""
    assert table.parent
    col = table.parent[0]
    key = list(table.primary_key)
    _differs(where, table, incoming, stored, key)
    if not parents:
        return
    mine = stored[stored[col].isin(parents)]
    have = set(map(tuple, incoming[key].to_numpy().tolist()))
    want = set(map(tuple, mine[key].to_numpy().tolist()))
    extra = sorted(have - want)
    if extra:
        i = next(n for n, r in enumerate(incoming[key].to_numpy().tolist()) if tuple(r) == extra[0])
        raise BundleError(
            f"{where}: {table.path}[{incoming.index[i]}].{key[-1]}: {extra[0][-1]!r} is not "
            f"stored for {col} {extra[0][0]!r}; nothing was imported"
        )
    missing = sorted(want - have)
    if missing:
        raise BundleError(
            f"{where}: {table.path}: {col} {missing[0][0]!r} has {key[-1]} {missing[0][-1]!r} in "
            "the store but not in the bundle; nothing was imported"
        )
