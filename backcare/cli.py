"""The `backcare` command: a thin layer over the library.

Only the standard library is imported here: each command imports what it needs when it runs,
so `backcare --help` stays quick (tests/test_light_import.py checks it).
Every subcommand has --help. A user error (bad input, missing patient, unusable file)
prints one line `backcare: error: ...` and exits 2; it never shows a traceback."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from backcare.errors import BackcareError, ValidationError  # standard library only


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line `backcare CMD: error: ...` (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _date(text: str) -> dt.date:
    from backcare.domain.rules import check_day_bound

    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None
    try:
        return check_day_bound("date", day)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed; expected {exc.allowed}"
        ) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _pseudonym_options(p: argparse.ArgumentParser, *, dates: str) -> None:
    p.add_argument(
        "--pseudonymise",
        action="store_true",
        help=f"stable pseudonym instead of id and name; {dates}; free text left out",
    )
    p.add_argument(
        "--real-dates", action="store_true", help="with --pseudonymise: keep calendar dates"
    )
    p.add_argument(
        "--keep-text",
        action="store_true",
        help="with --pseudonymise: keep notes and annotation text",
    )


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: BACKCARE_DB or sqlite:///data/backcare.db)",
    )


def cmd_demo(args: argparse.Namespace) -> int:
    """Fill a store with deterministic demo patients."""
    import time

    from backcare.demo import fill_demo
    from backcare.store import open_store

    t0 = time.perf_counter()
    with open_store(args.db) as store:
        counts = fill_demo(
            store,
            args.patients,
            args.days,
            args.seed,
            end=args.end,
            progress=True if args.progress else None,
        )
    took = time.perf_counter() - t0
    print(
        f"added {counts['patients']} patients, {counts['sessions']} sessions, "
        f"{counts['items']} exercise items, {counts['pain']} pain scores, "
        f"{counts['annotations']} annotations, "
        f"{counts.get('questionnaires', 0)} questionnaire responses in {took:.1f} s"
    )
    return 0


def cmd_patients(args: argparse.Namespace) -> int:
    """List patients with their number of sessions and date range."""
    from backcare.store import open_store

    with open_store(args.db) as store:
        df = store.patients()
    if df.empty:
        print("no patients yet (try: backcare demo)")
        return 0
    out = df[["patient_id", "name", "sessions", "first_day", "last_day"]].copy()
    for col in ("first_day", "last_day"):
        out[col] = out[col].dt.strftime("%Y-%m-%d").fillna("-")
    if args.limit:
        out = out.head(args.limit)
    print(out.to_string(index=False))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """Print every number the trends view shows for one patient (JSON with --json)."""
    import json

    from backcare import services
    from backcare.present.records import summary_record
    from backcare.store import open_store

    with open_store(args.db) as store:
        data = services.load_trends(store, args.patient, args.period, args.on)
    record = summary_record(data)
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print(data.summary)
        moves = data.suggestions[data.suggestions["direction"] != "hold"]
        for row in moves.to_dict("records"):
            print(f"suggestion: {row['exercise_id']} {row['direction']}: {row['reason']}")
    return 0


def cmd_overview(args: argparse.Namespace) -> int:
    """Print the clinic overview, patients needing attention first (--json or --csv)."""
    import json

    from backcare import services
    from backcare.present.records import frame_records
    from backcare.store import open_store

    with open_store(args.db) as store:
        df = services.overview(store, args.on)
    if args.json:
        print(json.dumps(frame_records(df), indent=2))
    elif args.csv:
        sys.stdout.write(df.to_csv(index=False, date_format="%Y-%m-%d"))
    elif df.empty:
        print("no patients yet (try: backcare demo)")
    else:
        cols = ["patient_id", "priority", "attention", "adherence_14d", "pain_class"]
        print(df[cols].to_string(index=False))
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    """Start JupyterLab on 127.0.0.1 (token required) in ./notebooks, else a checkout's notebooks/;
    run elsewhere for the first time, it copies the packaged notebooks into ./notebooks."""
    from backcare.servers import run_lab

    return run_lab(args.port)


def cmd_export(args: argparse.Namespace) -> int:
    """Write one patient's data as a bundle: a zip of CSV files described by datapackage.json
    (a Frictionless Data Package: Table Schemas, keys, sha256 hashes), readable by its owner
    only; or with --format fhir as an HL7 FHIR R4 Bundle (JSON: Patient, CarePlans,
    Procedures, pain Observations)."""
    from backcare.domain.rules import check_day_range, check_out_file
    from backcare.store import open_store

    check_day_range(args.date_from, args.date_to, ("--from", "--to"))
    check_out_file("--out", args.out)
    if args.format == "fhir":
        from backcare.fhir import write_fhir

        with open_store(args.db) as store:
            bundle = write_fhir(
                store,
                args.patient,
                args.out,
                field="--out",
                pseudonymise=args.pseudonymise,
                relative_dates=not args.real_dates,
                keep_text=args.keep_text,
                start=args.date_from,
                end=args.date_to,
            )
        kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
        counts = ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
        print(f"wrote {args.out} (FHIR R4 Bundle): {counts}")
        return 0
    from backcare.bundle import export_bundle

    with open_store(args.db) as store:
        try:
            package = export_bundle(
                store,
                args.patient,
                args.out,
                pseudonymise=args.pseudonymise,
                relative_dates=None if not args.pseudonymise else not args.real_dates,
                keep_text=args.keep_text,
                start=args.date_from,
                end=args.date_to,
            )
        except OSError as exc:  # the file system refused the write (e.g. /proc)
            raise ValidationError(
                "--out", args.out, f"a file that can be written ({exc.strerror or exc})"
            ) from None
    rows = ", ".join(f"{r['rows']} {r['name']}" for r in package["resources"])
    print(f"wrote {args.out} for {package['backcare']['patient_id']}: {rows}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Load a patient bundle into a store (records already there identically are skipped;
    anything else that does not match refuses the whole bundle, nothing written)."""
    from backcare.bundle import import_bundle
    from backcare.store import open_store

    with open_store(args.db) as store:
        added = import_bundle(store, args.bundle)
    print("imported " + ", ".join(f"{v} {k}" for k, v in added.items()))
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    """Delete every row of one patient (sessions, items, pain scores, programmes, annotations,
    daily summaries: every table holding their data) in one transaction, after you type the
    patient id to confirm (--yes skips the question); print what was removed."""
    from backcare.store import open_store

    with open_store(args.db) as store:
        counts = store.erase_patient(args.patient, dry_run=True)
        if not args.yes:
            print(f"this erases {_counts(counts)} of patient {args.patient}; it cannot be undone")
            try:
                typed = input("type the patient id to confirm: ")
            except EOFError:
                typed = ""
            if typed.strip() != args.patient:
                raise ValidationError(
                    "confirmation", typed.strip(), f"the patient id {args.patient!r}"
                )
        removed = store.erase_patient(args.patient)
    print(f"erased patient {args.patient}: {_counts(removed)}")
    return 0


def cmd_timezone(args: argparse.Namespace) -> int:
    """Move a patient to another time zone (they moved, or the zone was entered wrongly) from
    --from (default: today in the new zone). Days already recorded stay filed under the old
    zone, so --from must come after the patient's last day with a session or pain score; the
    change is written on the patient's timeline."""
    import zoneinfo

    from backcare.domain.rules import check_timezone
    from backcare.store import open_store

    zone = check_timezone("--zone", args.zone)
    with open_store(args.db) as store:
        old = store.patient_timezone(args.patient)
        day = args.date_from or dt.datetime.now(zoneinfo.ZoneInfo(zone)).date()
        store.change_timezone(args.patient, zone, day)
    print(f"patient {args.patient}: time zone {old.key} -> {zone} from {day.isoformat()}")
    return 0


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {table}" for table, n in counts.items())


def cmd_export_notebook(args: argparse.Namespace) -> int:
    """Write a notebook (e.g. notebooks/02_pain_trends.ipynb or 03_clinic_overview.ipynb, with
    your own notes in it) as one self-contained HTML file to share: run afresh on the store with
    every figure and table as plain output, code hidden, plotly.js embedded once and nothing
    loaded from the internet. --param NAME=VALUE sets a parameter (e.g. PATIENT_ID=p1)."""
    from backcare.reports import store_url
    from backcare.reports.notebooks import export_notebook
    from backcare.store import open_store

    params: dict[str, str] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise ValidationError("--param", item, "NAME=VALUE with NAME a Python name")
        params[name] = value
    with open_store(args.db, upgrade=False) as store:
        store.schema_version()  # one line if the store cannot be read, before a kernel starts
        url = store_url(store)
    r = export_notebook(args.notebook, args.out, url, parameters=params)
    print(f"wrote {r.path} ({r.bytes / 1e6:.1f} MB, {r.seconds:.1f} s)")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Serve today's checklist (the 01_today notebook shipped in the package) as a Voila app on
    127.0.0.1, token required."""
    from backcare.servers import run_app

    return run_app(args.port, patient=args.patient)


def cmd_hub(args: argparse.Namespace) -> int:
    """Start JupyterHub for a clinic on 127.0.0.1: each patient logs in to their own checklist,
    each physiotherapist to JupyterLab with the clinic notebooks, all on the store named by
    BACKCARE_DB (PostgreSQL for a clinic, where each account's server connects as its own
    database role limited by row-level security; a SQLite file to try it out). The hub keeps
    its database, cookie secret and accounts in BACKCARE_HUB_DIR (default data/hub, owner-only).
    Add accounts with `backcare account add`. See docs/deploy.md."""
    from backcare.hub.server import run_hub

    return run_hub(args.port, idle_timeout=args.idle_timeout)


def _password(args: argparse.Namespace) -> str:
    """The password from --password-file (its first line), else typed twice at a terminal."""
    if args.password_file:
        try:
            text = Path(args.password_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(
                "--password-file", args.password_file, f"a readable UTF-8 text file ({exc})"
            ) from None
        lines = text.splitlines()
        return lines[0] if lines else ""
    if not sys.stdin.isatty():
        raise BackcareError("--password-file: needed when the password is not typed at a terminal")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("password again: ") != first:
        raise BackcareError("password: the two passwords typed differ; nothing was written")
    return first


def cmd_account(args: argparse.Namespace) -> int:
    """Manage the hub's accounts: add (a patient's, or a physiotherapist's), list, disable.
    Accounts live in BACKCARE_HUB_DIR (default data/hub); passwords are stored as argon2id
    hashes. On PostgreSQL, adding an account also makes its database role."""
    from backcare.hub.accounts import Accounts, add_account, check_name, disable_account
    from backcare.hub.folder import hub_dir
    from backcare.store import default_url

    folder = hub_dir()
    if args.action == "list":
        rows = Accounts(folder).all()
        if not rows:
            print("no accounts yet (backcare account add NAME --patient ID | --physio)")
            return 0
        print(f"{'name':<20} {'kind':<8} {'patient':<20} {'status':<9} created")
        for a in rows:
            status = "disabled" if a.disabled else "enabled"
            print(f"{a.name:<20} {a.kind:<8} {a.patient_id or '-':<20} {status:<9} {a.created_at}")
        return 0
    check_name(args.name)
    url = args.db or default_url()
    if args.action == "add":
        account = add_account(
            folder,
            url,
            args.name,
            "physio" if args.physio else "patient",
            args.patient,
            _password(args),
        )
        who = f"patient {account.patient_id}" if account.patient_id else "physiotherapist"
        print(f"added account {account.name} ({who})")
    else:
        disable_account(folder, url, args.name)
        print(f"disabled account {args.name}: it can no longer log in")
    return 0


def cmd_reminders(args: argparse.Namespace) -> int:
    """Write a patient's reminders as an iCalendar file (.ics) for a phone or computer calendar:
    one recurring event per prescribed slot of the programme in force (3x/week: Monday,
    Wednesday, Friday; 7x/week: every day) at --time in the patient's time zone, with an alarm.
    A changed programme gives a new file: import it again."""
    from backcare.reminders import parse_time, write_reminders
    from backcare.store import open_store

    at = parse_time(args.time)
    with open_store(args.db) as store:
        out = write_reminders(store, args.patient, Path(args.out), at=at)
    print(f"wrote {out}: open it with your calendar to get the reminders")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Make a patient's report (the 04_patient_report notebook shipped in the package, run in
    this process): self-contained HTML with code hidden and interactive figures that load nothing
    from the internet, or with --format ipynb the executed notebook. --all writes one file per
    patient into the --out folder, with one copy of plotly.js beside them."""
    from backcare.reports import write_report, write_reports
    from backcare.reports.plotlyjs import plotly_js
    from backcare.store import open_store

    narrative = args.narrative or ""
    if args.narrative_file:
        try:
            narrative = Path(args.narrative_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(
                "--narrative-file", args.narrative_file, f"a readable UTF-8 text file ({exc})"
            ) from None
    fmt = args.format or ("ipynb" if not args.all and args.out.endswith(".ipynb") else "html")
    options = {
        "period_from": args.date_from,
        "period_to": args.date_to,
        "author": args.author,
        "narrative": narrative,
        "pseudonymise": args.pseudonymise,
        "relative_dates": not args.real_dates,
        "keep_text": args.keep_text,
    }
    with open_store(args.db) as store:
        if args.all:
            results = write_reports(
                store, args.out, fmt=fmt, progress=True if args.progress else None, **options
            )
            size = sum(r.bytes for r in results) / 1e6
            took = sum(r.seconds for r in results)
            shared = (
                f", plus {plotly_js().filename} ({len(plotly_js().source) / 1e6:.1f} MB) "
                "that they share"
                if fmt == "html"
                else ""
            )
            print(
                f"wrote {len(results)} reports to {args.out} ({size:.1f} MB{shared}, {took:.0f} s)"
            )
        else:
            r = write_report(store, args.patient, args.out, fmt=fmt, **options)
            print(f"wrote {r.path} for {r.shown_id} ({r.bytes / 1e6:.1f} MB, {r.seconds:.1f} s)")
    if fmt == "html" and plotly_js().note:  # bigger than it need be: say why, once
        print(f"backcare: note: {plotly_js().note}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for every subcommand."""
    parser = _Parser(prog="backcare", description="Track a back-pain exercise programme.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "demo", help="fill a store with deterministic demo patients", description=cmd_demo.__doc__
    )
    p.add_argument("--patients", type=_positive, default=20, help="number of patients (default 20)")
    p.add_argument("--days", type=_positive, default=120, help="days of history (default 120)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument(
        "--end", type=_date, default=None, help="last day of history (default yesterday)"
    )
    p.add_argument("--progress", action="store_true", help="always show the progress bar")
    _db_option(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "patients",
        help="list patients with their sessions and date range",
        description=cmd_patients.__doc__,
    )
    p.add_argument("--limit", type=_positive, default=None, help="show at most this many rows")
    _db_option(p)
    p.set_defaults(func=cmd_patients)

    p = sub.add_parser(
        "export", help="write a patient's data as a zip bundle", description=cmd_export.__doc__
    )
    p.add_argument("--patient", required=True, help="patient id")
    p.add_argument("--out", required=True, help="file to write (.zip; .json with --format fhir)")
    p.add_argument(
        "--format",
        choices=("zip", "fhir"),
        default="zip",
        help="zip: backcare bundle (default); fhir: HL7 FHIR R4 Bundle as JSON",
    )
    p.add_argument(
        "--from", dest="date_from", type=_date, default=None, help="first day (YYYY-MM-DD)"
    )
    p.add_argument("--to", dest="date_to", type=_date, default=None, help="last day (YYYY-MM-DD)")
    _pseudonym_options(p, dates="dates shifted by whole weeks")
    _db_option(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "import", help="load a patient bundle into a store", description=cmd_import.__doc__
    )
    p.add_argument("bundle", help="bundle file (.zip) written by backcare export")
    _db_option(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "erase",
        help="delete every row of a patient, after confirmation",
        description=cmd_erase.__doc__,
    )
    p.add_argument("--patient", required=True, metavar="ID", help="patient id")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _db_option(p)
    p.set_defaults(func=cmd_erase)

    p = sub.add_parser(
        "timezone",
        help="move a patient to another time zone from a day on",
        description=cmd_timezone.__doc__,
    )
    p.add_argument("--patient", required=True, metavar="ID", help="patient id")
    p.add_argument("--zone", required=True, help="IANA time zone, e.g. Europe/Paris")
    p.add_argument(
        "--from",
        dest="date_from",
        type=_date,
        default=None,
        help="first day filed in the new zone (default: today there)",
    )
    _db_option(p)
    p.set_defaults(func=cmd_timezone)

    p = sub.add_parser(
        "report",
        help="make a patient's report (self-contained HTML or a notebook)",
        description=cmd_report.__doc__,
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient", metavar="ID", help="patient id")
    who.add_argument(
        "--all", action="store_true", help="every patient, one file each in the --out folder"
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="file to write (.html or .ipynb); with --all, a folder",
    )
    p.add_argument(
        "--from",
        dest="date_from",
        type=_date,
        default=None,
        metavar="DATE",
        help="first day (YYYY-MM-DD; default: start of the history)",
    )
    p.add_argument(
        "--to",
        dest="date_to",
        type=_date,
        default=None,
        metavar="DATE",
        help="last day (YYYY-MM-DD; default: today)",
    )
    p.add_argument(
        "--format",
        choices=("html", "ipynb"),
        default=None,
        help="html (default) or ipynb: the executed notebook, outputs kept",
    )
    p.add_argument(
        "--author", default="", metavar="NAME", help="the physiotherapist writing the report"
    )
    text = p.add_mutually_exclusive_group()
    text.add_argument(
        "--narrative",
        default="",
        metavar="TEXT",
        help="the physiotherapist's text, shown as written",
    )
    text.add_argument(
        "--narrative-file",
        default=None,
        metavar="FILE",
        help="read the narrative from this UTF-8 text file",
    )
    _pseudonym_options(p, dates="dates as day 1..N")
    p.add_argument(
        "--progress", action="store_true", help="with --all: always show the progress bar"
    )
    _db_option(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "export-notebook",
        help="a notebook with your notes as self-contained HTML (figures kept, works offline)",
        description=cmd_export_notebook.__doc__,
    )
    p.add_argument("notebook", help="the notebook (.ipynb) to export")
    p.add_argument("--out", required=True, metavar="FILE", help="HTML file to write")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a notebook parameter, e.g. PATIENT_ID=p1 or PERIOD='Last 4 weeks' (repeatable)",
    )
    _db_option(p)
    p.set_defaults(func=cmd_export_notebook)

    p = sub.add_parser(
        "summary",
        help="every number of a patient's trends view (--json)",
        description=cmd_summary.__doc__,
    )
    p.add_argument("--patient", required=True, help="patient id")
    p.add_argument("--on", type=_date, default=None, help="last day (default: their today)")
    p.add_argument(
        "--period",
        default="Last 8 weeks",
        help="period ending on --on, as the trends view names it (default: Last 8 weeks)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    _db_option(p)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser(
        "overview",
        help="the clinic overview, patients needing attention first (--json or --csv)",
        description=cmd_overview.__doc__,
    )
    p.add_argument("--on", type=_date, default=None, help="the day (default: today, UTC)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--csv", action="store_true", help="print CSV")
    _db_option(p)
    p.set_defaults(func=cmd_overview)

    p = sub.add_parser(
        "reminders",
        help="write a patient's exercise reminders as a calendar file (.ics)",
        description=cmd_reminders.__doc__,
    )
    p.add_argument("--patient", required=True, metavar="ID", help="patient id")
    p.add_argument("--out", required=True, metavar="FILE", help="the .ics file to write")
    p.add_argument(
        "--time", default="18:00", metavar="HH:MM", help="reminder time, local (default 18:00)"
    )
    _db_option(p)
    p.set_defaults(func=cmd_reminders)

    p = sub.add_parser(
        "lab", help="start JupyterLab on 127.0.0.1 with a token", description=cmd_lab.__doc__
    )
    p.add_argument(
        "--port",
        default=None,
        help="port from 1 to 65535 (default 8888, or the next free one when it is taken)",
    )
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser(
        "app",
        help="serve today's checklist as a web app on 127.0.0.1 with a token",
        description=cmd_app.__doc__,
    )
    p.add_argument(
        "--port",
        default=None,
        help="port from 1 to 65535 (default 8866, or the next free one when it is taken)",
    )
    p.add_argument(
        "--patient",
        metavar="ID",
        default=None,
        help="the patient whose checklist the app shows (default: BACKCARE_PATIENT, else the "
        "store's only patient; the app never lists patients)",
    )
    p.set_defaults(func=cmd_app)

    p = sub.add_parser(
        "hub",
        help="start JupyterHub for a clinic on 127.0.0.1 (patients and physiotherapists log in)",
        description=cmd_hub.__doc__,
    )
    p.add_argument(
        "--port",
        default=None,
        help="port from 1 to 65535 (default 8000, or the next free one when it is taken)",
    )
    p.add_argument(
        "--idle-timeout",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="stop a user's server after this long without activity (default 1800)",
    )
    p.set_defaults(func=cmd_hub)

    p = sub.add_parser(
        "account",
        help="add, list or disable the hub's accounts",
        description=cmd_account.__doc__,
    )
    acts = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = acts.add_parser(
        "add",
        help="add an account: a patient's (--patient ID) or a physiotherapist's (--physio)",
        description="Add a hub account. The password comes from --password-file (its first "
        "line), else is typed twice at the terminal; at least 10 characters.",
    )
    a.add_argument("name", metavar="NAME", help="the login name (lowercase letters, digits, - _)")
    kind = a.add_mutually_exclusive_group(required=True)
    kind.add_argument("--patient", metavar="ID", help="the patient this account sees")
    kind.add_argument("--physio", action="store_true", help="a physiotherapist's account")
    a.add_argument("--password-file", metavar="F", default=None, help="read the password from F")
    _db_option(a)
    a.set_defaults(func=cmd_account)
    a = acts.add_parser("list", help="list the accounts", description="List the hub's accounts.")
    a.set_defaults(func=cmd_account)
    a = acts.add_parser(
        "disable",
        help="disable an account: it can no longer log in",
        description="Disable an account: it can no longer log in, and on PostgreSQL its "
        "database role's login is taken away.",
    )
    a.add_argument("name", metavar="NAME", help="the login name")
    _db_option(a)
    a.set_defaults(func=cmd_account)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 2 user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BackcareError as exc:
        print(f"backcare: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("backcare: interrupted", file=sys.stderr)
        return 130
    except _store_open_errors() as exc:  # a bad database URL or no connection: one line
        print(
            f"backcare: error: cannot open the store: {str(exc).splitlines()[0]}", file=sys.stderr
        )
        return 2


def _store_open_errors() -> tuple[type[Exception], ...]:
    """A database URL SQLAlchemy cannot use, or a database it cannot reach.

    Called only while an exception is being matched, so `backcare --help` never imports
    SQLAlchemy."""
    import sqlalchemy.exc

    return (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.OperationalError)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
