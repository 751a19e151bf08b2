"""PostgreSQL row-level security (schema version 7): a patient's database role reads and writes
only that patient's rows, through the Store and through raw SQL alike; a clinic role reads and
writes every patient's; the tables' owner is not limited."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from backcare.errors import NotFoundError
from backcare.store import open_store
from backcare.store import row_security as R
from backcare.store import schema as S
from tests.support.stores import START, add_default_patient

pytestmark = pytest.mark.postgres

DAY = START + dt.timedelta(days=3)


def _tick(store, patient, exercises, pain):
    return store.save_session(
        patient,
        [{"exercise_id": e, "done": True} for e in exercises],
        day=DAY,
        pain_before=pain,
        started_at=dt.datetime(2026, 1, 8, 9, 0, tzinfo=dt.UTC),
    )


@pytest.fixture
def clinic(pg_url):
    """A store with patients anna-p and ben-p (one session each, written by the owner), and
    the roles of accounts anna (patient anna-p), ben (patient ben-p) and phil (clinic), each
    with a password as the hub gives one at spawn; the roles are dropped afterwards."""
    owner = open_store(pg_url)
    for pid in ("anna-p", "ben-p"):
        add_default_patient(owner, pid, pid.title())
    _tick(owner, "anna-p", ["pelvic-tilt"], 5)
    _tick(owner, "ben-p", ["plank", "bird-dog"], 7)
    urls = {}
    with owner.transaction() as conn:
        for account, kind, pid in (
            ("anna", "patient", "anna-p"),
            ("ben", "patient", "ben-p"),
            ("phil", "clinic", None),
        ):
            role = R.create_role(conn, account, kind, pid)
            urls[account] = R.login_url(pg_url, role, R.open_login(conn, role))
    try:
        yield owner, urls
    finally:
        with owner.transaction() as conn:
            roles = [r for r, _, _ in R.mapped_roles(conn)]
            for role in roles:
                R.close_login(conn, role)
                conn.exec_driver_sql(f"DROP OWNED BY {R.quote(conn, role)}")
                conn.exec_driver_sql(f"DROP ROLE {R.quote(conn, role)}")
        owner.close()


def test_every_table_with_patient_rows_is_under_row_level_security(pg_url):
    with open_store(pg_url) as store, store.engine.connect() as conn:
        on = set(
            conn.execute(
                sa.text(
                    "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND relrowsecurity"
                )
            ).scalars()
        )
        assert store.schema_version() == 7
    everything_but_meta = {t.name for t in S.metadata.sorted_tables} - {"meta"}
    assert everything_but_meta <= on and "store_roles" in on
    assert "meta" not in on


def test_schema_upgrade_is_idempotent(pg_url):
    with open_store(pg_url) as store:
        with store.transaction() as conn:
            prefix = R.role_prefix(conn)
            R.apply(conn)  # again: same policies, same prefix
            assert R.role_prefix(conn) == prefix
            n = conn.execute(
                sa.text("SELECT count(*) FROM pg_policies WHERE tablename = 'sessions'")
            ).scalar()
    assert n == 2  # backcare_patient and backcare_clinic, not doubled


def test_a_patient_role_sees_only_its_patient(clinic):
    owner, urls = clinic
    with open_store(urls["anna"]) as anna:
        assert anna.patients()["patient_id"].tolist() == ["anna-p"]
        assert anna.sessions("ben-p").empty
        assert anna.sessions()["patient_id"].tolist() == ["anna-p"]
        assert anna.items("ben-p").empty
        assert anna.daily("ben-p").empty and len(anna.daily("anna-p")) == 1
        assert anna.prescriptions("ben-p").empty
        with anna.engine.connect() as conn:
            # raw SQL, as code in the kernel could run: every table shows anna-p's rows only
            for table, _ in R._patient_tables():
                if "patient_id" in table.c:
                    pids = set(conn.execute(sa.select(table.c.patient_id)).scalars())
                    assert pids <= {"anna-p"}, table.name
            # session_items only through anna's own session: 1 item (pelvic tilt)
            assert (
                conn.execute(sa.select(sa.func.count()).select_from(S.session_items)).scalar() == 1
            )
            assert conn.execute(sa.select(R.store_roles.c.role_name)).scalars().all() == [
                R.role_name(conn, "anna")
            ]


def test_a_patient_role_cannot_write_for_another_patient(clinic):
    owner, urls = clinic
    with open_store(urls["anna"]) as anna:
        # the Store's own path: ben-p does not exist for anna's role
        with pytest.raises(NotFoundError):
            _tick(anna, "ben-p", ["plank"], 2)
        with (
            anna.engine.connect() as conn,
            pytest.raises(sa.exc.ProgrammingError, match="row-level"),
        ):
            with conn.begin():
                conn.execute(
                    sa.insert(S.sessions).values(
                        session_id="forged",
                        patient_id="ben-p",
                        day=DAY,
                        created_at=dt.datetime.now(dt.UTC),
                        updated_at=dt.datetime.now(dt.UTC),
                    )
                )
        with anna.engine.connect() as conn:
            with conn.begin():  # an update of ben's rows touches nothing
                hit = conn.execute(sa.update(S.sessions).values(notes="x")).rowcount
            assert hit == 1  # anna's own session only
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                with conn.begin():  # the programme is the physiotherapist's to change
                    conn.execute(sa.delete(S.programmes))
    assert owner.sessions("ben-p")["notes"].tolist() == [""]
    assert "forged" not in owner.sessions()["session_id"].tolist()


def test_a_patient_role_saves_its_own_session_through_the_store(clinic):
    owner, urls = clinic
    with open_store(urls["anna"]) as anna:
        sid = _tick(anna, "anna-p", ["plank", "cat-cow"], 3)
        anna.add_pain("anna-p", 4, day=DAY, recorded_at=dt.datetime(2026, 1, 8, 20, tzinfo=dt.UTC))
    got = owner.sessions("anna-p").set_index("session_id")
    assert sid in got.index and len(got) == 2
    day = owner.daily("anna-p").iloc[0]
    # 2 sessions (1 + 2 items done); pain 5 and 3 before the sessions, 4 on its own
    assert (day["sessions"], day["items_done"], day["pain_sum"], day["pain_n"]) == (2, 3, 12, 3)


def test_a_clinic_role_reads_and_writes_every_patient(clinic):
    owner, urls = clinic
    with open_store(urls["phil"]) as phil:
        assert sorted(phil.patients()["patient_id"]) == ["anna-p", "ben-p"]
        assert len(phil.sessions()) == 2
        phil.add_annotation("ben-p", "progressed plank to 45 s", day=DAY, author="Phil")
    notes = owner.annotations("ben-p")
    # the programme's automatic note (set_programme), then phil's
    assert notes["author"].tolist()[-1] == "Phil"
    assert notes["text"].tolist()[-1] == "progressed plank to 45 s"


def test_a_closed_login_cannot_connect(clinic):
    owner, urls = clinic
    with owner.transaction() as conn:
        R.close_login(conn, R.role_name(conn, "anna"))
    engine = sa.create_engine(urls["anna"].replace("postgresql://", "postgresql+psycopg://"))
    with pytest.raises(sa.exc.OperationalError, match="not permitted to log in|password"):
        with engine.connect():
            pass
    engine.dispose()
