"""backcare.reports.privacy: the one pseudonymiser of bundles and reports, on frames worked by
hand."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from backcare.reports.privacy import (
    RELATIVE_EPOCH,
    hashed_ids,
    local_midnight,
    pseudonym,
    pseudonymise,
    relative_shift,
    rewrite_text,
)

KEY = bytes(range(32))


def frames() -> dict[str, pd.DataFrame]:
    return {
        "patients": pd.DataFrame(
            {"patient_id": ["p1"], "name": ["Ann Example"], "timezone": ["UTC"]}
        ),
        "sessions": pd.DataFrame(
            {
                "session_id": ["s1", "s2"],
                "patient_id": ["p1", "p1"],
                "day": pd.to_datetime(["2026-01-07", "2026-01-12"]),  # a Wednesday, the next Monday
                "started_at": pd.to_datetime(["2026-01-07 10:00", "2026-01-12 18:30"]).tz_localize(
                    "UTC"
                ),
                "notes": ["knee sore", ""],
            }
        ),
        "annotations": pd.DataFrame(
            {
                "annotation_id": ["a1"],
                "patient_id": ["p1"],
                "day": pd.to_datetime(["2026-01-09"]),
                "kind": ["flare-up"],
                "text": ["moved house"],
            }
        ),
        "plans": pd.DataFrame(
            {
                "programme_key": ["1"],
                "patient_id": ["p1"],
                "valid_from": pd.to_datetime(["2026-01-08"]),
                "note": ["plank up"],
            }
        ),
    }


def test_pseudonymised_frames_hide_identity_and_free_text_and_shift_dates_by_whole_weeks():
    out, shift = pseudonymise(frames(), "P-x", key=KEY, kinds={"plans": "programmes"})
    assert out["patients"].loc[0, "name"] == "" and set(out["sessions"]["patient_id"]) == {"P-x"}
    assert list(out["sessions"]["notes"]) == ["", ""] and out["plans"].loc[0, "note"] == ""
    assert out["annotations"].loc[0, "text"] == "(flare-up: text left out)"
    # the first day is Wed 7 Jan 2026: its Monday (5 Jan 2026) moves to Mon 3 Jan 2000
    assert shift == pd.Timestamp("2026-01-05") - pd.Timestamp("2000-01-03")
    assert list(out["sessions"]["day"]) == [pd.Timestamp("2000-01-05"), pd.Timestamp("2000-01-10")]
    # times keep their (shifted) local date and no time of day: Wed 7 Jan 2026 10:00 UTC
    assert out["sessions"].loc[0, "started_at"] == pd.Timestamp("2000-01-05 00:00", tz="UTC")
    assert out["plans"].loc[0, "valid_from"] == pd.Timestamp("2000-01-06")
    assert out["annotations"].loc[0, "day"] == pd.Timestamp("2000-01-07")
    # with the key, record ids are keyed hashes: stable, prefixed, not the id
    assert out["sessions"]["session_id"].str.fullmatch(r"S-[0-9a-f]{16}").all()
    assert out["sessions"].loc[0, "session_id"] == hashed_ids(KEY, "S", pd.Series(["s1"])).iloc[0]
    assert out["annotations"].loc[0, "annotation_id"].startswith("A-")
    assert out["plans"].loc[0, "programme_key"].startswith("R-")
    assert frames()["sessions"].loc[0, "notes"] == "knee sore"  # the input is left as it was


def test_without_a_key_ids_stay_and_text_and_dates_can_be_kept():
    out, shift = pseudonymise(
        frames(), "P-x", relative_dates=False, keep_text=True, kinds={"plans": "programmes"}
    )
    assert shift == pd.Timedelta(0)
    assert list(out["sessions"]["session_id"]) == ["s1", "s2"]
    assert (
        out["sessions"].loc[0, "notes"] == "knee sore"
        and out["annotations"].loc[0, "text"] == "moved house"
    )
    assert out["sessions"].loc[0, "day"] == pd.Timestamp("2026-01-07")


def test_extra_days_can_move_the_first_week():
    # a report whose period starts on Sun 4 Jan 2026: that week's Monday (29 Dec 2025) goes to
    # 3 Jan 2000
    _, shift = pseudonymise(
        frames(),
        "P-x",
        also_days=[pd.Series([pd.Timestamp("2026-01-04")])],
        kinds={"plans": "programmes"},
    )
    assert shift == pd.Timestamp("2025-12-29") - pd.Timestamp(RELATIVE_EPOCH)


def test_no_dates_no_shift_and_unknown_kinds_are_refused():
    assert relative_shift([pd.Series([], dtype="datetime64[ns]")]) == pd.Timedelta(0)
    with pytest.raises(ValueError, match="kinds: 'plans'"):
        pseudonymise(frames(), "P-x")


def test_a_pseudonym_is_stable_under_one_key_and_differs_under_another():
    assert pseudonym(KEY, "p1") == pseudonym(KEY, "p1")
    assert pseudonym(KEY, "p1") != pseudonym(KEY, "p2")
    assert pseudonym(KEY, "p1") != pseudonym(bytes(32), "p1")
    assert pseudonym(KEY, "p1").startswith("P-") and len(pseudonym(KEY, "p1")) == 12


def test_times_become_their_local_date_at_midnight_utc():
    times = pd.Series(
        pd.to_datetime(
            [
                "2026-03-29T23:30:44.463702+00:00",  # 00:30 BST on 30 March in London
                "2026-03-29T00:59:59.999999+00:00",  # 00:59 GMT, just before the clocks go forward
                "2026-01-07T11:30:00+00:00",  # no fraction: pandas must not guess a format
            ],
            format="ISO8601",
        )
    )
    assert list(local_midnight(times, "Europe/London")) == [
        pd.Timestamp("2026-03-30", tz="UTC"),
        pd.Timestamp("2026-03-29", tz="UTC"),
        pd.Timestamp("2026-01-07", tz="UTC"),
    ]
    # in Auckland (NZDT, UTC+13 in January) 11:30 UTC on 7 January is 00:30 on 8 January
    assert local_midnight(times, "Pacific/Auckland").iloc[2] == pd.Timestamp("2026-01-08", tz="UTC")


def test_kept_text_has_its_dates_moved_and_its_times_of_day_hidden():
    shift = pd.Timestamp("2026-01-05") - pd.Timestamp("2000-01-03")  # 9497 days, 1356.7 weeks
    assert (
        rewrite_text("Programme from 2026-01-05: Plank. Seen 2026-01-12 at 14:05:33.25", shift)
        == "Programme from 2000-01-03: Plank. Seen 2000-01-10 at hh:mm"
    )
    assert rewrite_text("on 2026-02-30, 9:15 and 2026-01-05T08:00", shift) == (
        "on a date, hh:mm and 2000-01-03Thh:mm"
    )
    # without a shift (real dates kept) dates stay, times still go
    assert rewrite_text("2026-01-05 at 7:30", pd.Timedelta(0)) == "2026-01-05 at hh:mm"


def test_kept_text_is_rewritten_in_every_text_column():
    out, _ = pseudonymise(frames(), "P-x", keep_text=True, kinds={"plans": "programmes"})
    assert out["annotations"].loc[0, "text"] == "moved house"
    f = frames()
    f["annotations"].loc[0, "text"] = "Programme from 2026-01-08: Plank"
    f["sessions"].loc[0, "notes"] = "GP 2026-01-07 at 09:30"
    out, _ = pseudonymise(f, "P-x", keep_text=True, kinds={"plans": "programmes"})
    assert out["annotations"].loc[0, "text"] == "Programme from 2000-01-06: Plank"
    assert out["sessions"].loc[0, "notes"] == "GP 2000-01-05 at hh:mm"


def questionnaire_frames() -> dict[str, pd.DataFrame]:
    return {
        "patients": pd.DataFrame(
            {"patient_id": ["p1"], "name": ["Ann Example"], "timezone": ["Europe/London"]}
        ),
        "questionnaires": pd.DataFrame(
            {
                "response_id": ["q1", "q2"],
                "patient_id": ["p1", "p1"],
                "instrument": ["psfs", "groc"],
                "day": pd.to_datetime(["2026-03-30", "2026-04-02"]),  # a Monday, the Thursday
                # 23:30:44.463702 UTC on Sun 29 March is 00:30 BST on Monday 30 March
                "recorded_at": pd.to_datetime(
                    ["2026-03-29 23:30:44.463702", "2026-04-02 09:15:00.000001"]
                ).tz_localize("UTC"),
                "answers": ['[["walk at 9:30 on 2026-03-29",3],["Gärtnern",6]]', "[4]"],
                "score": [4.5, 4.0],
                "author": ["", "Dr K"],
            }
        ),
    }


@pytest.mark.parametrize("keep_text", [False, True])
def test_questionnaire_responses_are_pseudonymised_like_the_other_records(keep_text):
    out, shift = pseudonymise(questionnaire_frames(), "P-x", key=KEY, keep_text=keep_text)
    q = out["questionnaires"]
    # Mon 30 March 2026 moves to Mon 3 Jan 2000: 3 Jan 2000 to 3 Jan 2026 is 26 * 365 days + 7
    # leap days (2000 ... 2024) = 9497 days; 3 Jan to 30 March 2026 is 28 + 28 + 30 = 86 more:
    # 9583 days, 1369 whole weeks
    assert shift == pd.Timedelta(days=9583) == pd.Timedelta(weeks=1369)
    assert list(q["day"]) == [pd.Timestamp("2000-01-03"), pd.Timestamp("2000-01-06")]
    # recorded_at: the London date at 00:00 UTC, shifted (the 23:30 UTC one counts for Monday)
    assert list(q["recorded_at"]) == [
        pd.Timestamp("2000-01-03", tz="UTC"),
        pd.Timestamp("2000-01-06", tz="UTC"),
    ]
    assert list(q["response_id"]) == list(hashed_ids(KEY, "Q", pd.Series(["q1", "q2"])))
    assert set(q["patient_id"]) == {"P-x"} and q.loc[0, "author"] == ""  # entered by the patient
    assert re.fullmatch(r"C-[0-9a-f]{10}", q.loc[1, "author"])  # the physio: an alias
    assert list(q["score"]) == [4.5, 4.0] and q.loc[1, "answers"] == "[4]"
    if keep_text:  # as typed, with the date moved by the shift and the time of day hidden
        assert q.loc[0, "answers"] == '[["walk at hh:mm on 2000-01-02",3],["Gärtnern",6]]'
    else:
        assert q.loc[0, "answers"] == '[["activity 1",3],["activity 2",6]]'


@pytest.mark.parametrize("keep_text", [False, True])
def test_clinicians_names_are_replaced_the_patient_and_backcare_stay(keep_text):
    f = frames()
    f["plans"]["author"] = ["Dr Kaur"]
    f["annotations"] = pd.concat([f["annotations"]] * 4, ignore_index=True)
    f["annotations"]["annotation_id"] = ["a1", "a2", "a3", "a4"]
    f["annotations"]["author"] = ["Sam Lee", "Dr Kaur", "", "backcare"]
    kinds = {"plans": "programmes"}
    # without a key (reports): numbered in order of first appearance, frame by frame in the
    # order given (frames() has annotations before plans): Sam Lee 1, Dr Kaur 2
    out, _ = pseudonymise(f, "P-x", keep_text=keep_text, kinds=kinds)
    assert list(out["annotations"]["author"]) == ["clinician 1", "clinician 2", "", "backcare"]
    assert list(out["plans"]["author"]) == ["clinician 2"]
    # with the key (bundles): 'C-' and 10 hex digits, the same name the same alias
    out, _ = pseudonymise(f, "P-x", key=KEY, keep_text=keep_text, kinds=kinds)
    kaur = out["plans"].loc[0, "author"]
    assert re.fullmatch(r"C-[0-9a-f]{10}", kaur)
    assert list(out["annotations"]["author"])[1:] == [kaur, "", "backcare"]
    lee = out["annotations"].loc[0, "author"]
    assert re.fullmatch(r"C-[0-9a-f]{10}", lee) and lee != kaur
    assert f["plans"].loc[0, "author"] == "Dr Kaur"  # the input is left as it was
