"""The only glue between the store and the analysis: read what a view needs, then analyse it.

Views, the report, the CLI and the clinic overview call these functions; none of them
chooses its own read window or re-implements a rule. Reads only: nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from backcare import analysis as A
from backcare.analysis.calendar import take_rows
from backcare.analysis.clinic import LOOKBACK_DAYS, WINDOW_DAYS, clinic_overview
from backcare.analysis.questionnaires import questionnaire_outcomes
from backcare.domain.catalog import Catalog
from backcare.errors import NotFoundError, ValidationError
from backcare.store import Store
from backcare.store.core import count_items

PERIODS: dict[str, int | None] = {
    "Last 4 weeks": 28,
    "Last 8 weeks": 56,
    "Last 12 weeks": 84,
    "Last 6 months": 182,
    "Last year": 365,
    "All history": None,
}
DEFAULT_PERIOD = "Last 8 weeks"
SUGGESTION_SPAN = pd.Timedelta(days=A.PROGRESSION_WINDOW_DAYS - 1)


@dataclass
class PatientFrames:
    """One patient's raw frames for [start, end] (store dtypes), as analyse_patient takes them.

    history_items holds the items since the first programme (or start, if earlier): habit
    strength and streaks need the history, not just the period."""

    patient_id: str
    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    prescriptions: pd.DataFrame
    sessions: pd.DataFrame
    items: pd.DataFrame
    history_items: pd.DataFrame
    pain: pd.DataFrame
    annotations: pd.DataFrame
    history_sessions: pd.DataFrame = field(default_factory=pd.DataFrame)
    history_pain: pd.DataFrame = field(default_factory=pd.DataFrame)
    questionnaires: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class TrendsData:
    """Everything the trends view and the report show for one patient and period."""

    patient_id: str
    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    daily: pd.DataFrame
    trend: A.PainTrend
    flares: pd.DataFrame
    weekly: pd.DataFrame
    completion: pd.DataFrame
    effect: pd.DataFrame
    adherence_pain: A.AdherencePain
    streaks: A.Streaks
    habit: float | None
    suggestions: pd.DataFrame
    annotations: pd.DataFrame
    red_flag_sessions: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: str = field(default="")
    # questionnaire responses up to end (whole history: the baseline is anchored) and their
    # outcomes (analysis.questionnaires.questionnaire_outcomes)
    questionnaire_responses: pd.DataFrame = field(default_factory=pd.DataFrame)
    questionnaires: pd.DataFrame = field(default_factory=pd.DataFrame)


def _patient(store: Store, patient_id: str) -> dict[str, Any]:
    who = store.patient(patient_id)
    if who is None:
        raise NotFoundError("patient_id", patient_id, "a patient in the store")
    return who


def _history_start(rx: pd.DataFrame, start: pd.Timestamp) -> pd.Timestamp:
    """The first day of the first programme, or start if earlier (or no programme)."""
    return min(rx["valid_from"].min(), start) if len(rx) else start


def _from(frame: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """The rows of a store frame with day >= start, in order (what the store reads from start
    on)."""
    day = frame["day"].to_numpy(dtype="datetime64[ns]")
    return take_rows(frame, np.flatnonzero(day >= start.to_datetime64()))


def read_patient(
    store: Store,
    patient_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    last_days: int | None = None,
) -> PatientFrames:
    """One patient's frames for [start, end] (end None: their local today; start None: the
    last_days days ending on end, or with last_days None too, the whole history).

    Raises NotFoundError for an unknown patient. Every frame comes from one snapshot of the
    store (a session saved meanwhile is in all of them or in none)."""
    with store.snapshot():
        return _read_patient(store, patient_id, start, end, last_days)


def _read_patient(
    store: Store,
    patient_id: str,
    start: dt.date | None,
    end: dt.date | None,
    last_days: int | None,
) -> PatientFrames:
    who = _patient(store, patient_id)
    end_ts = pd.Timestamp(end or store.local_today(patient_id))
    rx = store.prescriptions(patient_id)
    pain_all = None
    if start is None and last_days is not None:
        start_ts = end_ts - pd.Timedelta(days=last_days - 1)
    elif start is None:
        firsts = [rx["valid_from"].min() if len(rx) else pd.NaT, who["first_day"]]
        pain_all = store.pain(patient_id, None, end_ts)
        firsts.append(pain_all["day"].min() if len(pain_all) else pd.NaT)
        found = [f for f in firsts if not pd.isna(f)]
        start_ts = min(found) if found else end_ts
    else:
        start_ts = pd.Timestamp(start)
    start_ts = min(start_ts, end_ts)
    h_start = _history_start(rx, start_ts)
    h_items = store.items(patient_id, h_start, end_ts)
    # the pain baseline is anchored at the programme's start (or the first score), whatever
    # the period: its scores are read from there
    anchor = rx["valid_from"].min() if len(rx) else None
    # the history from the anchor holds the period when the period starts at or after it:
    # the period's sessions and scores are then cut from it, not read again
    h_sessions = store.sessions(patient_id, anchor, end_ts)
    h_pain = (
        pain_all
        if pain_all is not None and anchor is None
        else store.pain(patient_id, anchor, end_ts)
    )
    covers = anchor is None or anchor <= start_ts
    return PatientFrames(
        patient_id=patient_id,
        name=str(who["name"]),
        start=start_ts,
        end=end_ts,
        prescriptions=rx,
        sessions=(
            _from(h_sessions, start_ts) if covers else store.sessions(patient_id, start_ts, end_ts)
        ),
        items=_from(h_items, start_ts) if h_start < start_ts else h_items,
        history_items=h_items,
        pain=_from(h_pain, start_ts) if covers else store.pain(patient_id, start_ts, end_ts),
        annotations=store.annotations(patient_id, start_ts, end_ts),
        history_sessions=h_sessions,
        history_pain=h_pain,
        questionnaires=store.questionnaires(patient_id, None, end_ts),
    )


def analyse_patient(f: PatientFrames, catalog: Catalog) -> TrendsData:
    """Every analysis the trends view and the report show, on one patient's frames."""
    from backcare.present.text import summarise

    start_ts, end_ts, rx, items = f.start, f.end, f.prescriptions, f.items
    daily = A.daily_pain(f.sessions, f.pain, start_ts, end_ts)
    anchor = rx["valid_from"].min() if len(rx) else None
    pain_history = A.daily_pain(f.history_sessions, f.history_pain, None, end_ts)
    trend = A.pain_trend(pain_history, anchor, end_ts)
    # flare-up episodes are judged on the history (their baseline is the 14 days before
    # them, which may lie before the period) and kept when any of their days is in it
    earliest = (
        pain_history
        if len(pain_history) and (daily.empty or pain_history["day"].min() <= daily["day"].min())
        else daily
    )
    flares = A.flares_between(A.flare_ups(earliest), start_ts, end_ts)
    # habit strength and streaks need the history since the first programme; prescriptions
    # are expanded once, for the history, and shared
    h_start, h_items = _history_start(rx, start_ts), f.history_items
    shared = A.in_force_days(rx, h_items, h_start, end_ts) if len(rx) else None
    weekly = A.weekly_adherence(rx, items, start_ts, end_ts, in_force=shared)
    habit, history = None, weekly
    if len(rx):
        hs = A.habit_strength(rx, h_items, h_start, end_ts, in_force=shared)
        habit = float(hs["habit"].iloc[-1]) if len(hs) else None
        if h_start < start_ts:
            history = A.weekly_adherence(rx, h_items, h_start, end_ts, in_force=shared)
    streak = A.streaks(history)
    sessions = f.sessions
    flagged = sessions[sessions["red_flags"].fillna("") != ""] if len(sessions) else sessions
    # the progression window must hold only this period's items, as `items` does
    window_ok = shared is not None and end_ts - SUGGESTION_SPAN >= start_ts
    data = TrendsData(
        patient_id=f.patient_id,
        name=f.name,
        start=start_ts,
        end=end_ts,
        daily=daily,
        trend=trend,
        flares=flares,
        weekly=weekly,
        completion=A.daily_completion(rx, items, start_ts, end_ts, in_force=shared),
        effect=A.session_effect(f.sessions, items),
        adherence_pain=A.adherence_vs_pain(weekly, daily),
        streaks=streak,
        habit=habit,
        annotations=f.annotations,
        red_flag_sessions=flagged,
        suggestions=A.progression_suggestions(
            rx,
            items,
            daily,
            catalog,
            end_ts,
            f.annotations,
            flares=flares,
            in_force=shared if window_ok else None,
            trend_status=trend.status,
            sessions=f.sessions,
        ),
    )
    data.summary = summarise(trend, weekly, data.streaks, habit)
    data.questionnaire_responses = f.questionnaires
    data.questionnaires = questionnaire_outcomes(f.questionnaires, A.programme_starts(rx), end_ts)
    return data


def load_trends(
    store: Store, patient_id: str, period: str = DEFAULT_PERIOD, end: dt.date | None = None
) -> TrendsData:
    """One patient's analysis for a named period (a key of PERIODS) ending on end (default:
    today)."""
    if period not in PERIODS:
        raise ValidationError("period", period, "one of " + ", ".join(PERIODS))
    return analyse_patient(
        read_patient(store, patient_id, end=end, last_days=PERIODS[period]), store.catalog
    )


def patient_suggestions(store: Store, patient_id: str, end: dt.date) -> pd.DataFrame:
    """analysis.progression_suggestions for the patient over the window ending on end.

    Pain is read from LOOKBACK_DAYS before the end (the window, the 14-day baseline of a
    flare-up starting in it, and 14 days more for an episode already going on), exactly as
    the clinic overview reads it."""
    _patient(store, patient_id)
    end_ts = pd.Timestamp(end)
    lo = end_ts - SUGGESTION_SPAN
    pain_lo = end_ts - pd.Timedelta(days=LOOKBACK_DAYS - 1)
    rx = store.prescriptions(patient_id)
    sessions = store.sessions(patient_id, pain_lo, end_ts)
    daily = A.daily_pain(sessions, store.pain(patient_id, pain_lo, end_ts), pain_lo, end_ts)
    # the trend (a safety gate of progression) is anchored at the programme's start
    anchor = rx["valid_from"].min() if len(rx) else None
    trend = A.pain_trend(
        A.daily_pain(
            store.sessions(patient_id, anchor, end_ts),
            store.pain(patient_id, anchor, end_ts),
            None,
            end_ts,
        ),
        anchor,
        end_ts,
    )
    return A.progression_suggestions(
        rx,
        store.items(patient_id, lo, end_ts),
        daily,
        store.catalog,
        end_ts,
        store.annotations(patient_id, lo, end_ts),
        trend_status=trend.status,
        sessions=sessions,
    )


def week_progress(store: Store, patient_id: str, day: dt.date) -> A.WeekProgress:
    """This week's progress (analysis.week_progress) for the patient, with the history its
    streak needs."""
    _patient(store, patient_id)
    rx = store.prescriptions(patient_id)
    week = day - dt.timedelta(days=day.weekday())
    first = rx["valid_from"].min().date() if len(rx) else week
    items = store.items(patient_id, min(first, week), week + dt.timedelta(days=6))
    return A.week_progress(rx, items, day)


@dataclass(frozen=True)
class WeekGlance:
    """A week at a glance: this week's progress and streak, and each day's status.

    days: analysis.day_statuses from the Monday `weeks - 1` weeks before the day's week (or
    the day 6 days before, if earlier) to the Sunday of the day's week; today is `day`."""

    day: dt.date
    progress: A.WeekProgress
    days: pd.DataFrame
    grid_weeks: int = 1

    def last_days(self, n: int = 7) -> pd.DataFrame:
        """The statuses of the n days ending on the glance's day."""
        end = pd.Timestamp(self.day)
        lo = end - pd.Timedelta(days=n - 1)
        return self.days[(self.days["day"] >= lo) & (self.days["day"] <= end)].reset_index(
            drop=True
        )

    def weeks(self) -> list[pd.DataFrame]:
        """The calendar weeks (Monday to Sunday) of the grid, oldest first, 7 rows each."""
        monday = self.day - dt.timedelta(days=self.day.weekday())
        first = pd.Timestamp(monday) - pd.Timedelta(days=7 * (self.grid_weeks - 1))
        grid = self.days[self.days["day"] >= first]
        return [grid.iloc[i : i + 7].reset_index(drop=True) for i in range(0, len(grid), 7)]


def week_glance(store: Store, patient_id: str, day: dt.date, weeks: int = 1) -> WeekGlance:
    """This week's progress (analysis.week_progress) and the day statuses
    (analysis.day_statuses) of the last `weeks` calendar weeks and the last 7 days; `day` is
    the person's today. One read of the prescriptions and of the items since the first
    programme."""
    if weeks < 1:
        raise ValidationError("weeks", weeks, "a whole number of weeks from 1")
    _patient(store, patient_id)
    rx = store.prescriptions(patient_id)
    monday = day - dt.timedelta(days=day.weekday())
    week_end = monday + dt.timedelta(days=6)
    grid_start = monday - dt.timedelta(days=7 * (weeks - 1))
    strip_start = day - dt.timedelta(days=6)
    start = min(grid_start, strip_start)
    read_from = start - dt.timedelta(days=start.weekday())  # spare days count from Monday
    first = rx["valid_from"].min().date() if len(rx) else read_from
    items = store.items(patient_id, min(first, read_from), week_end)
    days = A.day_statuses(rx, items, start, week_end, today=day)
    return WeekGlance(day, A.week_progress(rx, items, day), days, weeks)


ANCHOR_READ_DAYS = 28  # scored days read after each patient's anchor in the first pass
LATE_READ_DAYS = 28  # scored days read before the end in the first pass


def clinic_frames(store: Store, today: dt.date) -> dict[str, pd.DataFrame]:
    """What the clinic overview reads, each frame no larger than the rules need.

    patients (id, name, last session day); prescriptions (every programme); done (items
    done per patient, day and exercise in the 14-day window); daily (daily pain sums: every
    day of the LOOKBACK_DAYS (42-day) lookback window that flare-up episodes are judged on,
    plus the scored days analysis.pain_trends searches for its baseline and latest windows);
    annotations (the window's timeline notes); trends (analysis.pain_trends of those daily
    sums, computed here once); doses (done items per recorded dose in the window, counted in
    SQL: progression starts from the dose actually recorded).

    The pain trend's windows are searched from each patient's anchor forwards and from the
    end backwards, so a first pass reads the 28 days after the anchor and the 28 days
    before the end; the few patients whose windows are not settled by those rows (see
    _settled) are read in full and the search repeats on their whole history."""
    end = pd.Timestamp(today)
    lo = end - pd.Timedelta(days=WINDOW_DAYS - 1)
    look = end - pd.Timedelta(days=LOOKBACK_DAYS - 1)
    late_from = end - pd.Timedelta(days=LATE_READ_DAYS - 1)
    window = store.daily_sums(look, end)
    parts = [
        window,
        store.daily_sums(late_from, look - pd.Timedelta(days=1), scored_only=True),
        store.daily_sums(None, end, scored_only=True, from_anchor=ANCHOR_READ_DAYS),
    ]
    prescriptions = store.prescriptions(in_force_from=lo, notes=False)
    starts = store.programme_starts()
    daily = _merge_days(parts)
    trends = A.pain_trends(A.daily_from_sums(daily, every_day=False), starts, end)
    unsettled = _unsettled(trends, late_from)
    if unsettled:
        parts.append(store.daily_sums(None, end, scored_only=True, patients=unsettled))
        daily = _merge_days(parts)
        # the other patients' rows are unchanged, and so are their trends
        again = daily[daily["patient_id"].isin(unsettled)]
        trends = pd.concat(
            [
                trends[~trends["patient_id"].isin(unsettled)],
                A.pain_trends(A.daily_from_sums(again, every_day=False), starts, end),
            ],
            ignore_index=True,
        )
    ticked, scored = store.window_sessions(lo, end)  # one read: done counts, doses, pain
    done, doses = count_items(ticked)
    return {
        "trends": trends,
        "patients": store.last_session_days(),
        "prescriptions": prescriptions,
        "starts": starts.rename_axis("patient_id").rename("start").reset_index(),
        "done": done,
        "doses": doses,
        "sessions": scored,
        "daily": daily,
        "annotations": store.annotations(None, lo, end),
        "questionnaires": store.questionnaire_scores(end),
    }


def _merge_days(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The union of daily-sum reads, each (patient, day) once, ordered."""
    return (
        pd.concat(parts, ignore_index=True)
        .drop_duplicates(["patient_id", "day"])
        .sort_values(["patient_id", "day"], kind="stable")
        .reset_index(drop=True)
    )


def _unsettled(trends: pd.DataFrame, late_from: pd.Timestamp) -> list[str]:
    """Patients whose trend windows the first pass cannot settle.

    A baseline found within the rows read after the anchor is the first one (the search
    runs forwards from the anchor); a latest window found within the rows read before the
    end is the last one. Anything else (no window found, or one that reaches outside the
    rows read) needs the patient's whole history."""
    read_until = trends["anchor"] + pd.Timedelta(days=ANCHOR_READ_DAYS - 1)
    base_ok = trends["baseline_end"].notna() & (trends["baseline_end"] <= read_until)
    late_ok = trends["latest_start"].notna() & (trends["latest_start"] >= late_from)
    # everything between the two reads was read when they meet
    covered = read_until >= late_from - pd.Timedelta(days=1)
    return sorted(trends.loc[~((base_ok & late_ok) | covered), "patient_id"].astype(str))


def overview(store: Store, today: dt.date | None = None) -> pd.DataFrame:
    """The clinic overview (analysis.clinic.clinic_overview) on the given day (default: UTC
    today)."""
    day = today or dt.datetime.now(dt.UTC).date()
    return clinic_overview(clinic_frames(store, day), day, store.catalog)
