"""Pure pandas analysis: one implementation per rule, for one patient or a whole clinic.

No I/O and no plots. Inputs are the frames ``Store`` returns (see store.READ_DTYPES): ``day``
columns are naive local dates, pain columns nullable Int64. Functions that accept several
patients group by ``patient_id``; one patient's dashboard is the one-patient case, so the
clinic overview and the dashboard cannot disagree.

Modules, one family of rules each (their docstrings state every method and source):
  calendar     days, weeks, prescriptions in force, done counts
  adherence    adherence per exercise/week/period, habit strength, streaks
  pain         daily pain, flare-ups, stability, red-flag counts
  change       baseline against latest pain, graded by clinical importance
  effects      session effect, adherence against next week's pain
  progression  one-step progression suggestions
  stats        t quantiles, mean and Pearson intervals
  clinic       the clinic overview (the same functions applied to every patient)
"""

from backcare.analysis.adherence import (
    ADHERENCE_DROP,
    ADHERENT,
    HABIT_HALF_LIFE_DAYS,
    Streaks,
    WeekProgress,
    adherence_by_exercise,
    adherence_by_month,
    adherence_falling,
    adherence_per_patient,
    by_exercise,
    daily_completion,
    habit_strength,
    period_adherence,
    streaks,
    week_progress,
    weekly_adherence,
    weekly_totals,
)
from backcare.analysis.calendar import (
    EPS,
    InForce,
    as_day,
    done_counts,
    expand_prescriptions,
    in_force_days,
    programme_starts,
    week_start,
)
from backcare.analysis.change import (
    IMPROVED,
    INSUFFICIENT,
    MCID_FRACTION,
    MCID_POINTS,
    MUCH_IMPROVED,
    NO_CHANGE,
    SUBSTANTIAL_FRACTION,
    TREND_MIN_DAYS,
    TREND_WINDOW_DAYS,
    WORSE,
    PainTrend,
    Thresholds,
    change_thresholds,
    classify_change,
    low_baseline,
    pain_trend,
    pain_trends,
)
from backcare.analysis.effects import (
    MIN_EFFECT_N,
    MIN_PAIRS,
    AdherencePain,
    adherence_vs_pain,
    session_effect,
)
from backcare.analysis.pain import (
    FLARE_LOOKBACK_DAYS,
    FLARE_MIN_PRIOR_DAYS,
    FLARE_POINTS,
    PAIN_STABLE_TOLERANCE,
    ROLLING_DAYS,
    ROLLING_MIN_DAYS,
    STABILITY_MIN_HALF_DAYS,
    WEEK_MIN_PAIN_DAYS,
    daily_from_sums,
    daily_pain,
    flare_ups,
    pain_display,
    pain_stability,
    red_flag_counts,
    weekly_pain,
)
from backcare.analysis.progression import (
    PROGRESSION_WINDOW_DAYS,
    progression_suggestions,
    suggest,
)
from backcare.analysis.stats import mean_ci, pearson_ci, t_quantile

__all__ = [
    "ADHERENCE_DROP",
    "ADHERENT",
    "EPS",
    "FLARE_LOOKBACK_DAYS",
    "FLARE_MIN_PRIOR_DAYS",
    "FLARE_POINTS",
    "HABIT_HALF_LIFE_DAYS",
    "IMPROVED",
    "INSUFFICIENT",
    "MCID_FRACTION",
    "MCID_POINTS",
    "MIN_EFFECT_N",
    "MIN_PAIRS",
    "MUCH_IMPROVED",
    "SUBSTANTIAL_FRACTION",
    "Thresholds",
    "change_thresholds",
    "low_baseline",
    "NO_CHANGE",
    "PAIN_STABLE_TOLERANCE",
    "PROGRESSION_WINDOW_DAYS",
    "ROLLING_DAYS",
    "ROLLING_MIN_DAYS",
    "STABILITY_MIN_HALF_DAYS",
    "TREND_MIN_DAYS",
    "TREND_WINDOW_DAYS",
    "WEEK_MIN_PAIN_DAYS",
    "WORSE",
    "AdherencePain",
    "InForce",
    "PainTrend",
    "Streaks",
    "WeekProgress",
    "adherence_by_exercise",
    "adherence_by_month",
    "adherence_falling",
    "adherence_per_patient",
    "adherence_vs_pain",
    "as_day",
    "by_exercise",
    "classify_change",
    "daily_completion",
    "daily_from_sums",
    "daily_pain",
    "done_counts",
    "expand_prescriptions",
    "flare_ups",
    "habit_strength",
    "in_force_days",
    "mean_ci",
    "pain_display",
    "pain_stability",
    "pain_trend",
    "pain_trends",
    "pearson_ci",
    "period_adherence",
    "programme_starts",
    "progression_suggestions",
    "red_flag_counts",
    "session_effect",
    "streaks",
    "suggest",
    "t_quantile",
    "week_start",
    "weekly_adherence",
    "weekly_pain",
    "weekly_totals",
    "week_progress",
]
