"""The clinic view: one line per patient in a searchable table widget, red flags first and
marked, a row opening the patient's trends and programme; escaping; all without a kernel."""

from __future__ import annotations

import datetime as dt

import pytest

from backcare.store import open_store
from backcare.ui.clinic import HEADERS, RED_FLAG_ALERT, ClinicView, overview_table_html

TODAY = dt.date(2026, 3, 31)
XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def clinic(demo_copy):
    store = open_store(demo_copy(patients=60, days=40, seed=4, end=TODAY))
    store.add_patient("zz-xss", XSS)
    yield store
    store.close()


def test_the_table_lists_every_patient_once_needing_attention_first(clinic):
    view = ClinicView(clinic, TODAY)
    shown = view.shown
    assert len(shown) == len(view.overview) == 61
    assert shown["patient_id"].is_unique
    # the widget holds exactly these rows, under the documented headers
    assert view.table._df.columns.tolist() == list(HEADERS.values())
    assert len(view.table._df) == 61
    ranks = shown["priority"].tolist()
    assert ranks == sorted(ranks)
    red = shown["alert"] == RED_FLAG_ALERT
    assert red.any(), "the demo store has red flags in the window"
    # red-flag rows first and marked; the counts line says how many
    assert red.tolist() == sorted(red.tolist(), reverse=True)
    assert f"{int(red.sum())} patient(s) ticked a red flag" in view.status.value
    view.attention_only.value = True
    assert (view.shown["priority"] < 9).all() and len(view.table._df) == len(view.shown)


def test_selecting_a_row_opens_that_patients_trends_and_programme(clinic):
    view = ClinicView(clinic, TODAY)
    third = view.shown.loc[2, "patient_id"]
    view.table.selected_rows = [2]
    assert view.patient_id == third
    assert third in view.detail_header.value
    trends_picker = view.detail.children[1].children[0]
    assert trends_picker.value == third
    assert len(view.detail.children) > 3


def test_names_are_escaped_in_both_tables(clinic):
    view = ClinicView(clinic, TODAY)
    # the widget: itables escapes the cells of its JSON data (allow_html is off)
    data = view.table._dt_args["data_json"]
    assert XSS not in data and "&lt;script&gt;" in data
    html = overview_table_html(view.overview)
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # a patient with no sessions needs attention: never seen
    row = view.shown.set_index("patient_id").loc["zz-xss"]
    assert row["last_session"] == "never" and row["attention"] == "no sessions yet"


def test_static_table_marks_red_flag_rows(clinic):
    view = ClinicView(clinic, TODAY)
    html = overview_table_html(view.overview)
    n_red = int((view.overview["red_flags_14d"] > 0).sum())
    assert html.count('class="backcare-red-flag"') == n_red > 0
    assert html.count("<tr") == 1 + len(view.overview)


def test_static_mode_shows_counts_every_row_and_the_caveat_without_widgets(clinic):
    view = ClinicView(clinic, TODAY, live=False)
    html = view.static_html()
    # the static table for readers without JavaScript: 60 demo patients and one added, all
    # 61 rows (the DataTable beside it pages them in the browser)
    static = html.rsplit("<noscript>", 1)[1].split("</noscript>")[0]  # ours comes last
    assert static.count("<tr") - 1 == 61  # minus the header row
    assert "window._itables_" in html  # the offline table's script is embedded
    assert "<p>61 patients; " in html and "Showing 61." in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and XSS not in html
    assert "self-reported" in html or "Rank: 1 red flag" in html  # the caveat
