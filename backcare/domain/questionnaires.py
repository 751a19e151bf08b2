"""The catalog of outcome questionnaires, how each is answered and scored, and their licences.

Three instruments, chosen because physiotherapists judge back pain by function too:

* ``rmdq`` - Roland-Morris Disability Questionnaire, 24-item version (Roland M, Morris R. A
  study of the natural history of back pain. Part I: development of a reliable and sensitive
  measure of disability in low-back pain. Spine 1983;8(2):141-144). 24 statements; the
  patient marks those that apply today. Score 0-24 = number marked (higher = more disabled).
  Important change: 5 points or 30 % of baseline (Ostelo RW, Deyo RA, Stratford P, et al.
  Interpreting change scores for pain and functional status in low back pain: towards
  international consensus regarding minimal important change. Spine 2008;33(1):90-94).
* ``psfs`` - Patient-Specific Functional Scale (Stratford P, Gill C, Westaway M, Binkley J.
  Assessing disability and change on individual patients: a report of a patient specific
  measure. Physiother Can 1995;47(4):258-263). The patient names up to 5 activities they find
  hard because of their back and rates each 0-10 (0 = unable to do it, 10 = able to do it as
  before the problem); at follow-up the same activities are rated again. Score = mean of the
  ratings (higher = better). Important change: 2 points on the mean. Stratford 1995 gives 2
  points as the minimal detectable change (90 % confidence) of the mean score (3 points for a
  single activity), as reproduced on the form circulated with the authors' permission; Abbott
  JH, Schmitt JS. Minimum important differences for the Patient-Specific Functional Scale, 4
  region-specific outcome measures, and the Numeric Pain Rating Scale. J Orthop Sports Phys
  Ther 2014;44(8):560-564 found minimum important differences of 1.3 (small), 2.3 (medium)
  and 2.7 (large change) points on the mean, stable across body regions. 2 points therefore
  sits above measurement error and between the small and medium MIDs.
* ``groc`` - Global Rating of Change, the 15-point scale of Jaeschke R, Singer J, Guyatt GH.
  Measurement of health status: ascertaining the minimal clinically important difference.
  Control Clin Trials 1989;10(4):407-415: "Since starting the programme, how has your back
  changed?" from -7 (a very great deal worse) through 0 (about the same) to +7 (a very great
  deal better). Design, strengths and weaknesses (recall bias, anchoring on the present
  state) are reviewed in Kamper SJ, Maher CG, Mackay G. Global rating of change scales: a
  review of strengths and weaknesses and considerations for design. J Man Manip Ther
  2009;17(3):163-170. The rating is itself a change: its class is read from the latest answer
  (+4 "moderately better" or more: important improvement; -4 or less: worse), following
  Jaeschke's grouping of 1-3 as small, 4-5 as moderate and 6-7 as large changes.

What was checked (2026-11-30, from the sources' public abstracts and forms; see ``checked``
of each instrument): Ostelo 2008's abstract gives a minimal important change of 5 for the
Roland Disability Questionnaire and "a 30% improvement" when the baseline is taken into
account (improvement only: nothing for deterioration). Abbott & Schmitt 2014's abstract gives
the PSFS MIDs 1.3 / 2.3 / 2.7. Stratford 1995's 2-point minimal detectable change of the PSFS
mean was read from the public PSFS form, not from the paper. Jaeschke 1989's abstract says it
established ranges for small, moderate and large changes; the 4-5 "moderate" band is as
widely reported, the full text could not be read here. Kamper 2009 could be read only as its
abstract; it is cited for the design and caveats of GROC scales, not for the cut-off.

Licences (what could and could not be verified, 2026-11-30; see LICENCE_NOTES):
* RMDQ: copyright of the authors (M. Roland, R. Morris). Widely reproduced for clinicians,
  described as free for clinical and non-commercial use via the questionnaire's own website;
  the exact licence text and the terms for software reproducing the wording could NOT be
  verified from here. backcare therefore does NOT ship the item wording: each item is shown
  as its number and a short topic in our own words, to be used alongside the official form
  the clinic holds. A clinic that has the authors' permission can supply the wording.
* PSFS: the activities are named by the patient, so there is no item wording; the public form
  says it is "reproduced with the permission of the authors". No formal licence (and no
  public-domain statement) could be verified; backcare describes the scale in its own words.
* GROC: a generic single question, described in the literature (Jaeschke 1989; Kamper 2009)
  and used freely; the anchor words here are backcare's own. No licence applies as far as
  could be checked; not verified with the authors.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backcare.domain.rules import (
    NAME_CHARS,
    check_bool,
    check_choice,
    check_date,
    check_datetime,
    check_id,
    check_int,
    check_text,
)
from backcare.errors import ValidationError

RMDQ, PSFS, GROC = "rmdq", "psfs", "groc"
RMDQ_ITEMS_N = 24
PSFS_MAX_ACTIVITIES = 5
PSFS_RANGE = (0, 10)
GROC_RANGE = (-7, 7)
ACTIVITY_CHARS = 100  # one PSFS activity as the patient names it


@dataclass(frozen=True)
class Instrument:
    """One questionnaire: what it measures, how it is scored, its threshold and its licence."""

    id: str
    name: str
    short: str
    question: str
    score_range: tuple[int, int]
    higher_is_better: bool
    important_points: float  # the minimal important change, in score points
    important_fraction: float | None  # or as a fraction of baseline (None: points only)
    threshold_source: str
    licence: str
    items: tuple[str, ...] = ()  # RMDQ: short topics in backcare's words, not the wording
    anchors: tuple[tuple[int, str], ...] = ()
    checked: str = ""  # what of the threshold's source could be verified, and how


# Topics of the 24 RMDQ statements, paraphrased in a few words of our own (the licensed
# wording is not shipped: see the module docstring).
RMDQ_TOPICS = (
    "staying at home",
    "changing position often",
    "walking more slowly",
    "not doing usual jobs at home",
    "using a handrail on stairs",
    "lying down to rest more",
    "holding on to get out of a chair",
    "getting others to do things",
    "dressing more slowly",
    "standing only briefly",
    "avoiding bending or kneeling",
    "difficulty getting out of a chair",
    "back painful almost all the time",
    "difficulty turning over in bed",
    "appetite",
    "putting on socks or stockings",
    "walking only short distances",
    "sleeping less well",
    "help with dressing",
    "sitting down most of the day",
    "avoiding heavy jobs",
    "more irritable with people",
    "going upstairs more slowly",
    "staying in bed most of the time",
)

GROC_ANCHORS = (
    (-7, "a very great deal worse"),
    (-6, "a great deal worse"),
    (-5, "a good deal worse"),
    (-4, "moderately worse"),
    (-3, "somewhat worse"),
    (-2, "a little worse"),
    (-1, "almost the same, hardly any worse"),
    (0, "about the same"),
    (1, "almost the same, hardly any better"),
    (2, "a little better"),
    (3, "somewhat better"),
    (4, "moderately better"),
    (5, "a good deal better"),
    (6, "a great deal better"),
    (7, "a very great deal better"),
)
GROC_IMPORTANT = 4  # "moderately better" or more (Jaeschke 1989: 4-5 moderate, 6-7 large)

OSTELO_2008 = (
    "Ostelo RW et al. Interpreting change scores for pain and functional status in low back "
    "pain: towards international consensus regarding minimal important change. "
    "Spine 2008;33(1):90-94"
)
STRATFORD_1995 = (
    "Stratford P et al. Assessing disability and change on individual patients: a report of "
    "a patient specific measure. Physiother Can 1995;47(4):258-263"
)
ABBOTT_2014 = (
    "Abbott JH, Schmitt JS. Minimum important differences for the Patient-Specific Functional "
    "Scale, 4 region-specific outcome measures, and the Numeric Pain Rating Scale. "
    "J Orthop Sports Phys Ther 2014;44(8):560-564"
)
JAESCHKE_1989 = (
    "Jaeschke R, Singer J, Guyatt GH. Measurement of health status: ascertaining the minimal "
    "clinically important difference. Control Clin Trials 1989;10(4):407-415"
)
KAMPER_2009 = (
    "Kamper SJ, Maher CG, Mackay G. Global rating of change scales: a review of strengths and "
    "weaknesses and considerations for design. J Man Manip Ther 2009;17(3):163-170"
)

INSTRUMENTS: dict[str, Instrument] = {
    RMDQ: Instrument(
        id=RMDQ,
        name="Roland-Morris Disability Questionnaire (24 items)",
        short="RMDQ",
        question="Which of the 24 statements on your Roland-Morris form apply to you today?",
        score_range=(0, RMDQ_ITEMS_N),
        higher_is_better=False,
        important_points=5.0,
        important_fraction=0.30,
        threshold_source=OSTELO_2008,
        licence=(
            "Copyright M. Roland and R. Morris (Spine 1983;8:141-144); described as free for "
            "clinical and non-commercial use. The licence text could not be verified here, so "
            "the item wording is not shipped: items are shown as numbers with short topics in "
            "backcare's own words, for use with the clinic's official form."
        ),
        items=RMDQ_TOPICS,
        checked=(
            "Ostelo 2008 abstract: MIC 5 points (0-24), or a 30 % improvement from baseline; "
            "improvement only"
        ),
    ),
    PSFS: Instrument(
        id=PSFS,
        name="Patient-Specific Functional Scale",
        short="PSFS",
        question=(
            "Name up to 5 activities your back makes hard, and rate each from 0 (unable to do "
            "it) to 10 (able to do it as well as before the problem)."
        ),
        score_range=PSFS_RANGE,
        higher_is_better=True,
        important_points=2.0,
        important_fraction=None,
        threshold_source=f"{STRATFORD_1995}; {ABBOTT_2014}",
        licence=(
            "Stratford et al. 1995; the public form is 'reproduced with the permission of the "
            "authors' and is widely described as free to use. No formal licence or "
            "public-domain statement could be verified; the scale is described in backcare's "
            "own words and the activities are the patient's."
        ),
        checked=(
            "Abbott & Schmitt 2014 abstract: MIDs 1.3, 2.3, 2.7; Stratford 1995's MDC of 2 "
            "points for the mean read from the public PSFS form, not the paper"
        ),
    ),
    GROC: Instrument(
        id=GROC,
        name="Global Rating of Change (15-point)",
        short="GROC",
        question="Since you started your programme, how has your back changed overall?",
        score_range=GROC_RANGE,
        higher_is_better=True,
        important_points=float(GROC_IMPORTANT),
        important_fraction=None,
        threshold_source=f"{JAESCHKE_1989}; {KAMPER_2009}",
        licence=(
            "A generic single question (Jaeschke et al. 1989; reviewed by Kamper et al. 2009); "
            "no licence applies as far as could be checked (not confirmed with the authors). "
            "The anchor words are backcare's own."
        ),
        anchors=GROC_ANCHORS,
        checked=(
            "Jaeschke 1989 abstract only (ranges for small, moderate, large change); the 4-5 "
            "moderate band as widely reported; Kamper 2009 abstract only, not a cut-off source"
        ),
    ),
}
INSTRUMENT_IDS = tuple(INSTRUMENTS)

LICENCE_NOTES = {
    RMDQ: "licence text not verified; item wording not shipped (numbers and topics only)",
    PSFS: "reproduced by the authors' permission; no formal licence verified",
    GROC: "generic question; no licence found",
}


# ---- answers -----------------------------------------------------------------------------
Answers = tuple[Any, ...]


def _rmdq_answers(answers: Any) -> tuple[bool, ...]:
    if isinstance(answers, (str, bytes, Mapping)) or not isinstance(answers, Iterable):
        raise ValidationError("answers", answers, f"{RMDQ_ITEMS_N} yes/no answers (True/False)")
    values = list(answers)
    if len(values) != RMDQ_ITEMS_N:
        raise ValidationError(
            "answers", f"{len(values)} answers", f"{RMDQ_ITEMS_N} yes/no answers (True/False)"
        )
    return tuple(check_bool(f"answers[{i}]", v) for i, v in enumerate(values))


def _psfs_answers(answers: Any) -> tuple[tuple[str, int], ...]:
    allowed = (
        f"1 to {PSFS_MAX_ACTIVITIES} activities, each an (activity, rating 0-10) pair or "
        "{'activity': ..., 'score': ...}"
    )
    if isinstance(answers, (str, bytes, Mapping)) or not isinstance(answers, Iterable):
        raise ValidationError("answers", answers, allowed)
    values = list(answers)
    if not 1 <= len(values) <= PSFS_MAX_ACTIVITIES:
        raise ValidationError("answers", f"{len(values)} activities", allowed)
    out: list[tuple[str, int]] = []
    for i, v in enumerate(values):
        if isinstance(v, Mapping):
            unknown = sorted(set(v) - {"activity", "score"})
            if unknown:
                raise ValidationError(f"answers[{i}].{unknown[0]}", v[unknown[0]], allowed)
            activity, rating = v.get("activity"), v.get("score")
        elif isinstance(v, Sequence) and not isinstance(v, (str, bytes)) and len(v) == 2:
            activity, rating = v
        else:
            raise ValidationError(f"answers[{i}]", v, allowed)
        activity = check_text(
            f"answers[{i}].activity", activity, max_len=ACTIVITY_CHARS, empty=False
        ).strip()
        out.append((activity, check_int(f"answers[{i}].score", rating, *PSFS_RANGE)))
    names = [a.casefold() for a, _ in out]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ValidationError(f"answers[{i}].activity", out[i][0], "each activity once")
    return tuple(out)


def _groc_answers(answers: Any) -> tuple[int]:
    if isinstance(answers, Sequence) and not isinstance(answers, (str, bytes)):
        if len(answers) != 1:
            raise ValidationError("answers", answers, "one rating from -7 to 7")
        answers = answers[0]
    return (check_int("answers", answers, *GROC_RANGE),)


def check_answers(instrument: str, answers: Any) -> Answers:
    """The answers in their canonical form if they suit the instrument (else ValidationError).

    rmdq: 24 booleans (True: the statement applies today); psfs: 1-5 (activity, 0-10) pairs
    or mappings with 'activity' and 'score'; groc: one whole number from -7 to 7."""
    instrument = check_choice("instrument", instrument, INSTRUMENT_IDS)
    if instrument == RMDQ:
        return _rmdq_answers(answers)
    if instrument == PSFS:
        return _psfs_answers(answers)
    return _groc_answers(answers)


def score(instrument: str, answers: Any) -> float:
    """The instrument's score of (already checked or raw) answers: RMDQ the number of items
    marked (0-24), PSFS the mean rating (0-10), GROC the rating (-7..7)."""
    checked = check_answers(instrument, answers)
    if instrument == RMDQ:
        return float(sum(checked))
    if instrument == PSFS:
        return math.fsum(r for _, r in checked) / len(checked)
    return float(checked[0])


def answers_json(answers: Answers) -> str:
    """Canonical JSON text of checked answers (what the store keeps)."""
    return json.dumps(list(answers), separators=(",", ":"), ensure_ascii=False)


def answers_from_json(text: str) -> Answers:
    """Checked answers back from their stored JSON (lists become tuples)."""
    return tuple(tuple(v) if isinstance(v, list) else v for v in json.loads(text))


@dataclass(frozen=True)
class Response:
    """A validated questionnaire response, ready to store."""

    response_id: str
    patient_id: str
    instrument: str
    day: dt.date
    recorded_at: dt.datetime
    answers: Answers
    score: float
    author: str = ""


def validate_response(
    *,
    response_id: str,
    patient_id: str,
    instrument: str,
    day: dt.date,
    recorded_at: dt.datetime,
    answers: Any,
    author: str = "",
) -> Response:
    """Check every field of a response and score it; return the Response or raise
    ValidationError naming the field, the value and what is allowed."""
    check_id("response_id", response_id)
    check_id("patient_id", patient_id)
    instrument = check_choice("instrument", instrument, INSTRUMENT_IDS)
    day = check_date("day", day)
    recorded_at = check_datetime("recorded_at", recorded_at)
    checked = check_answers(instrument, answers)
    author = check_text("author", author, max_len=NAME_CHARS)
    return Response(
        response_id,
        patient_id,
        instrument,
        day,
        recorded_at,
        checked,
        score(instrument, checked),
        author,
    )
