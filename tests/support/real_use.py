"""A patient who used the app: everything written through the user paths (today's Save and
quick pain on the real TodayView widgets, the questionnaires on today's form and entered by
the physio on the patient's behalf, the physio's programme editor and annotation form)
at real times: microseconds, a first row without them, a non-UTC zone, the days the clocks
go forward and back, a minute either side of midnight. Used by the bundle and privacy tests."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from backcare.store import Store
from backcare.ui.physio import AnnotationView, PhysioView, ProgrammeEditor
from backcare.ui.today import TodayView
from tests.support.loop import FakeLoop
from tests.support.stores import add_default_patient

LONDON = zoneinfo.ZoneInfo("Europe/London")
UTC = dt.UTC
# (moment the user pressed Save, in UTC; the local day it counts for in London)
MOMENTS = [
    (dt.datetime(2026, 3, 27, 12, 0, 0, tzinfo=UTC), dt.date(2026, 3, 27)),  # no microseconds
    # clocks go forward on Sun 29 March 2026 at 01:00 UTC: 00:59:59.999999 GMT, then 02:00 BST
    (dt.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC), dt.date(2026, 3, 29)),
    (dt.datetime(2026, 3, 29, 1, 0, 0, 1, tzinfo=UTC), dt.date(2026, 3, 29)),
    # 23:30:44.463702 UTC on 29 March is 00:30 BST on 30 March: the UTC and local days differ
    (dt.datetime(2026, 3, 29, 23, 30, 44, 463702, tzinfo=UTC), dt.date(2026, 3, 30)),
    # clocks go back on Sun 25 October 2026 at 01:00 UTC: 01:30 local happens twice
    (dt.datetime(2026, 10, 25, 0, 30, 0, 250000, tzinfo=UTC), dt.date(2026, 10, 25)),
    (dt.datetime(2026, 10, 25, 1, 30, 0, 750001, tzinfo=UTC), dt.date(2026, 10, 25)),
    # a minute before local midnight
    (dt.datetime(2026, 11, 29, 23, 59, 0, 999, tzinfo=UTC), dt.date(2026, 11, 29)),
]
# questionnaires answered on today's form, by the index of the moment (the patient's answers)
RMDQ_TICKED = {0: (1, 3, 10, 24), 6: (3,)}  # statements that apply: scores 4, then 1
PSFS_ACTIVITIES = (  # named once; the form offers them again the next time
    "walk to the GP at 9:30 on 2026-03-29",
    "=lift the shopping",
    'Gärtnern, "bending" \u00e9',
)
PSFS_RATINGS = {2: (3, 6, 2), 6: (7, 8, 5)}  # means 11/3 and 20/3
GROC_RATING = {4: 3}
PHYSIO_GROC = 5  # entered by the physio for the patient on the last day, author "@Dr K"


def answer_questionnaires(view: TodayView, n: int) -> None:
    """The patient answers what is planned for moment n on today's questionnaire form."""
    form = view.questionnaire
    if n in RMDQ_TICKED:
        form.instrument.value = "rmdq"
        for item in RMDQ_TICKED[n]:
            form.rmdq[item - 1].value = True
        assert form.save() is not None, form.message.value
    if n in PSFS_RATINGS:
        form.instrument.value = "psfs"
        for i, rating in enumerate(PSFS_RATINGS[n]):
            if n == min(PSFS_RATINGS):
                form.activities[i].value = PSFS_ACTIVITIES[i]
            assert form.activities[i].value == PSFS_ACTIVITIES[i]  # offered again next time
            form.ratings[i].value = rating
        assert form.save() is not None, form.message.value
    if n in GROC_RATING:
        form.instrument.value = "groc"
        form.groc.value = GROC_RATING[n]
        assert form.save() is not None, form.message.value


def use_the_app(store: Store) -> str:
    """A London patient who saved sessions and quick pain scores at MOMENTS, answered RMDQ,
    PSFS and GROC on today's form, had the programme changed by the physio twice, annotated
    twice and a GROC entered on their behalf."""
    pid = add_default_patient(store, "ann", "Ann Example", "Europe/London")
    for n, (when, local_day) in enumerate(MOMENTS):
        assert when.astimezone(LONDON).date() == local_day  # the moments are what they say
        view = TodayView(store, now=lambda when=when: when, scheduler=FakeLoop())
        assert view.day == local_day
        view.start_new_session()  # a second session on a day is a new one, not an edit
        row = view.rows[n % len(view.rows)]
        row.done.value = True
        for pain, score in ((view.pain_before, n % 11), (view.pain_after, (n + 3) % 11)):
            pain.score.value = score
        view.notes.value = (
            f"session {n}: -{n} min, =SUM(A1) @home\ttabbed; "
            f"GP on {local_day.isoformat()} at {when.astimezone(LONDON):%H:%M}"
        )
        assert view.save() is not None, view.message.value
        view.quick_pain.score.value = (2 * n) % 11
        view.quick_context.value = "evening" if n % 2 else "morning"
        assert view.record_pain() is not None, view.quick_message.value
        answer_questionnaires(view, n)
        if n == 3:  # the physio changes the programme and writes a note on the timeline
            ed = ProgrammeEditor(store, pid, today=local_day)
            ed.row("plank").inputs["hold_s"].value = 45
            ed.start.value = local_day
            ed.author.value = "@Dr K"
            ed.note.value = "+15 s plank"
            assert ed.save() is not None, ed.message.value
            notes = AnnotationView(store, pid, today=local_day)
            notes.kind.value = "flare-up"
            notes.author.value = "Dr K"
            notes.text.value = "'quoted' flare after moving house, -2 on the scale"
            assert notes.add() is not None, notes.message.value
    ed = ProgrammeEditor(store, pid, today=MOMENTS[-1][1])
    ed.row("plank").inputs["hold_s"].value = 60
    ed.start.value = MOMENTS[-1][1]
    assert ed.save() is not None, ed.message.value
    physio = PhysioView(store, pid, today=MOMENTS[-1][1])
    form = physio.questionnaire
    form.author.value = "@Dr K"
    form.instrument.value = "groc"
    form.groc.value = PHYSIO_GROC
    assert form.save() is not None, form.message.value
    return pid
