"""The clinic view: sorting, filtering, paging and escaping, without a kernel."""

from __future__ import annotations

import datetime as dt

import pytest

from backcare.store import open_store
from backcare.ui.clinic import PAGE_SIZE, ClinicView, sort_overview

TODAY = dt.date(2026, 3, 31)


@pytest.fixture(scope="module")
def clinic(demo_copy):
    store = open_store(demo_copy(patients=60, days=40, seed=4, end=TODAY))
    store.add_patient("zz-xss", "<script>alert(1)</script>")
    yield store
    store.close()


def test_view_pages_sorts_and_filters(clinic):
    view = ClinicView(clinic, TODAY)
    assert len(view.overview) == 61
    assert "Showing 50 of 61 (page 1 of 2)" in view.status.value
    view.page.value = 2
    assert "Showing 11 of 61 (page 2 of 2)" in view.status.value
    view.sort.value = "Lowest adherence first"
    assert view.page.value == 1
    adh = view.rows()["adherence_14d"].dropna().tolist()
    assert adh == sorted(adh)
    view.search.value = "demo-0007"
    assert list(view.rows()["patient_id"]) == ["demo-0007"]
    view.search.value = ""
    view.attention_only.value = True
    assert (view.rows()["priority"] < 9).all()


def test_names_are_escaped_in_the_table(clinic):
    view = ClinicView(clinic, TODAY)
    view.search.value = "zz-xss"
    assert "<script>alert(1)</script>" not in view.table.value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in view.table.value
    # a patient with no sessions needs attention: never seen
    assert "never" in view.table.value and "no sessions yet" in view.table.value


def test_sort_overview_refuses_unknown_sort(clinic):
    view = ClinicView(clinic, TODAY)
    with pytest.raises(ValueError, match="sort: 'colour'"):
        sort_overview(view.overview, "colour")
    assert PAGE_SIZE == 50
