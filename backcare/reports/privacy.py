"""The one pseudonymiser of patient data, used by bundles (backcare.bundle) and reports.

A pseudonym is a keyed hash of the patient id under a secret kept in the exporting store,
so the same patient always gets the same pseudonym and nobody without the store can trace
it back. Pseudonymised frames show the pseudonym as patient id and no name, leave out free
text (diary notes, programme notes, annotation text: the kind of each annotation is kept)
unless asked, and can shift every date by whole weeks so the first day falls in the week of
2000-01-03: weekdays, and so weekly adherence, are kept; the calendar is not. With the key,
record ids are replaced by keyed hashes too (bundles); reports show no record ids and never
see the key.

Times (started_at, recorded_at, created_at, ...) keep no time of day: they are cut to their
(shifted) UTC date, so neither an exact time (a fingerprint to match against the real record)
nor a shift can be read from them; backcare's analyses use days only. Text that is kept
(keep_text) has every ISO date in it (e.g. the automatic note 'Programme from 2026-10-31: ...')
shifted like the dates, and every time of day (13:43, 13:43:44.463) replaced by 'hh:mm'.
What is not recognisable as a date (a typed '31 Oct') stays as typed: that is why free text
is left out unless asked.

Questionnaire responses: ids hashed, day shifted and recorded_at cut like the others; the
activities a patient names in a PSFS response are free text: each becomes 'activity N' (the
ratings and so the score stay) unless keep_text, when they are kept as typed
with dates and times rewritten like notes.

Authors (of programmes, annotations and questionnaire responses: the clinician who entered
them) are people too: a clinician's name narrows down the clinic, and so the patient. They are
replaced, keep_text or not, by 'C-' and a keyed hash of the name when there is a key (bundles:
the same clinician, the same alias, across every export from the store) and else by
'clinician 1', 'clinician 2', ... in order of first appearance (reports). An empty author (the
patient) stays empty and backcare's own automatic author ('backcare') stays as it is. A name
typed inside kept free text is not recognised: that is why free text is left out unless asked.

Each frame is of one kind: patients, programmes, sessions, items, pain, annotations or
questionnaires
(``pseudonymise`` takes the kind of a frame named otherwise from ``kinds``). A frame holds
any subset of the columns listed here for its kind; absent ones are skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import pandas as pd

from backcare.domain.programme import AUTOMATIC_AUTHOR
from backcare.domain.questionnaires import PSFS

if TYPE_CHECKING:
    from backcare.store import Store

RELATIVE_EPOCH = dt.date(2000, 1, 3)  # a Monday
KEY_NAME = "pseudonym_key"  # the store secret pseudonyms are made with
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": (),
    "programmes": ("valid_from", "valid_to"),
    "sessions": ("day", "started_at", "ended_at", "created_at", "updated_at"),
    "items": ("day",),
    "pain": ("day", "recorded_at"),
    "annotations": ("day", "created_at"),
    "questionnaires": ("day", "recorded_at"),
}
# times of day: cut to the date (after the shift) in every pseudonymised frame
TIME_COLUMNS = ("started_at", "ended_at", "created_at", "updated_at", "recorded_at")
# the date shift puts the earliest of these in the epoch week
FIRST_DAY_COLUMNS = ("day", "valid_from")
FREE_TEXT: dict[str, tuple[str, ...]] = {"sessions": ("notes",), "programmes": ("note",)}
HASHED_IDS: dict[str, tuple[tuple[str, str], ...]] = {  # kind: ((id column, prefix), ...)
    "sessions": (("session_id", "S"), ("programme_key", "R")),
    "items": (("session_id", "S"),),
    "pain": (("pain_id", "N"),),
    "annotations": (("annotation_id", "A"),),
    "programmes": (("programme_key", "R"),),
    "questionnaires": (("response_id", "Q"),),
}


def pseudonym_key(store: Store) -> bytes:
    """The store's secret for pseudonyms, made on first use (the one write pseudonymising makes)."""
    return store.secret(KEY_NAME)


def pseudonym(key: bytes, patient_id: str) -> str:
    """The stable pseudonym of a patient under key, e.g. 'P-3f9a0c1d2e'."""
    return "P-" + hmac.new(key, patient_id.encode(), hashlib.sha256).hexdigest()[:10]


def hashed_ids(key: bytes, prefix: str, values: pd.Series) -> pd.Series:
    """Record ids as keyed hashes, e.g. 'S-0123456789abcdef' (the same id, the same hash)."""
    return values.astype(str).map(
        lambda v: f"{prefix}-" + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:16]
    )


TEXT_COLUMNS: dict[str, tuple[str, ...]] = {**FREE_TEXT, "annotations": ("text",)}
AUTHOR_KINDS = ("programmes", "annotations", "questionnaires")  # frames with an author column


def clinician_aliases(names: Iterable[object], key: bytes | None) -> dict[str, str]:
    """Each author name in names -> its alias: 'C-' and a keyed hash with key, else
    'clinician N' numbered in order of first appearance. Empty names and backcare's own
    automatic author are not in the mapping (they stay as they are)."""
    aliases: dict[str, str] = {}
    for name in names:
        if not isinstance(name, str) or not name or name == AUTOMATIC_AUTHOR or name in aliases:
            continue
        if key is not None:
            aliases[name] = "C-" + hmac.new(key, name.encode(), hashlib.sha256).hexdigest()[:10]
        else:
            aliases[name] = f"clinician {len(aliases) + 1}"
    return aliases


_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_TIME_OF_DAY = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?!\d)")


def rewrite_text(text: str, shift: pd.Timedelta) -> str:
    """Kept text with its ISO dates moved back by shift (an impossible date becomes 'a date')
    and its times of day replaced by 'hh:mm'."""

    def moved(m: re.Match[str]) -> str:
        try:
            day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return "a date"
        if not shift:
            return m[0]
        return (pd.Timestamp(day) - shift).strftime("%Y-%m-%d")

    return _TIME_OF_DAY.sub("hh:mm", _ISO_DATE.sub(moved, text))


def psfs_activities(
    instruments: pd.Series, answers: pd.Series, rename: Callable[[int, str], str]
) -> pd.Series:
    """answers (stored JSON text) with each PSFS activity replaced by rename(its number from 1,
    activity); the ratings, and the other instruments' answers, unchanged."""

    def one(inst: object, text: object) -> object:
        if inst != PSFS or not isinstance(text, str):
            return text
        pairs = json.loads(text)
        out = [[rename(n, str(a)), r] for n, (a, r) in enumerate(pairs, start=1)]
        return json.dumps(out, separators=(",", ":"), ensure_ascii=False)

    return pd.Series(
        [one(i, t) for i, t in zip(instruments, answers, strict=True)],
        index=answers.index,
        dtype=object,
    )


def local_midnight(times: pd.Series, timezone: str) -> pd.Series:
    """Each time as 00:00 UTC of its local date in timezone: the date stays, the time of day
    (and the UTC offset, which would betray it near midnight) goes."""
    ts = pd.to_datetime(times, utc=True, format="ISO8601")
    local = ts.dt.tz_convert(timezone).dt.tz_localize(None).dt.floor("D")
    return local.dt.tz_localize("UTC")


def text_left_out(kinds: pd.Series) -> pd.Series:
    """What pseudonymised data shows instead of an annotation's text: '(note: text left out)'."""
    return "(" + kinds.astype(str) + ": text left out)"


def relative_shift(days: Iterable[pd.Series]) -> pd.Timedelta:
    """The shift to subtract from dates so the first of `days` falls in the week of RELATIVE_EPOCH.

    Whole weeks, so weekdays (and weekly adherence) are kept; zero when there are no days."""
    found = [s.dropna() for s in days]
    found = [s for s in found if len(s)]
    if not found:
        return pd.Timedelta(0)
    first = pd.Timestamp(min(s.min() for s in found))
    monday = first - pd.Timedelta(days=first.weekday())
    return monday - pd.Timestamp(RELATIVE_EPOCH)


def pseudonymise(
    frames: Mapping[str, pd.DataFrame],
    alias: str,
    *,
    key: bytes | None = None,
    relative_dates: bool = True,
    keep_text: bool = False,
    also_days: Iterable[pd.Series] = (),
    kinds: Mapping[str, str] | None = None,
    timezone: str | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.Timedelta]:
    """Pseudonymised copies of frames and the date shift applied (zero without relative_dates).

    alias replaces every patient_id and the name is emptied; free text is left out unless
    keep_text; with key, record ids become keyed hashes; with relative_dates, every date column
    is shifted so the first record's day (or of also_days, e.g. a report's first day) falls in
    the week of RELATIVE_EPOCH. Times are cut to their local date (in timezone, else the
    patients frame's, else UTC) at 00:00 UTC. kinds maps a frame's name to its kind when they
    differ."""
    kind_of = {name: (kinds or {}).get(name, name) for name in frames}
    unknown = sorted(k for k in kind_of.values() if k not in DATE_COLUMNS)
    if unknown:
        raise ValueError(f"kinds: {unknown[0]!r} is not one of {', '.join(DATE_COLUMNS)}")
    out = {name: df.copy() for name, df in frames.items()}
    with_author = [n for n, df in out.items() if kind_of[n] in AUTHOR_KINDS and "author" in df]
    aliases = clinician_aliases((a for n in with_author for a in out[n]["author"]), key)
    for n in with_author:
        out[n]["author"] = out[n]["author"].map(lambda a: aliases.get(a, a))
    for name, df in out.items():
        kind = kind_of[name]
        if "patient_id" in df:
            df["patient_id"] = alias
        if kind == "patients" and "name" in df:
            df["name"] = ""
        for col, prefix in HASHED_IDS.get(kind, ()):
            if key is not None and col in df:
                df[col] = hashed_ids(key, prefix, df[col]).where(df[col].notna(), None)
        if not keep_text:
            for col in FREE_TEXT.get(kind, ()):
                if col in df:
                    df[col] = ""
            if kind == "annotations" and len(df):
                df["text"] = text_left_out(df["kind"])
            if kind == "questionnaires" and "answers" in df and len(df):
                df["answers"] = psfs_activities(
                    df["instrument"], df["answers"], lambda n, _a: f"activity {n}"
                )
    tz = timezone or next(
        (
            str(df["timezone"].iloc[0])
            for name, df in frames.items()
            if kind_of[name] == "patients" and "timezone" in df and len(df)
        ),
        "UTC",
    )
    for name, df in out.items():  # before the shift: the local date is the real day's
        for col in TIME_COLUMNS:
            if col in DATE_COLUMNS[kind_of[name]] and col in df and len(df):
                df[col] = local_midnight(df[col], tz)
    shift = pd.Timedelta(0)
    if relative_dates:
        firsts = [df[c] for df in frames.values() for c in FIRST_DAY_COLUMNS if c in df]
        shift = relative_shift([*also_days, *firsts])
        for name, df in out.items():
            for col in DATE_COLUMNS[kind_of[name]]:
                if col in df:
                    df[col] = df[col] - shift
    for name, df in out.items():
        if keep_text:
            for col in TEXT_COLUMNS.get(kind_of[name], ()):
                if col in df and len(df):
                    df[col] = df[col].map(
                        lambda v: rewrite_text(v, shift) if isinstance(v, str) else v
                    )
            if kind_of[name] == "questionnaires" and "answers" in df and len(df):
                df["answers"] = psfs_activities(
                    df["instrument"], df["answers"], lambda _n, a: rewrite_text(a, shift)
                )
    return out, shift
