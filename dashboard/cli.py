"""`mdt-dashboard`: the one front door. run (the default), import, report, agenda, caseload,
demo-data, dictionary."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import duckdb

import queries
from dashboard import caseload, demo_data, importer, kept, meeting, report, schema, store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_data"
APP = ROOT / "dashboard" / "app.py"
AS_OF_ENV = kept.AS_OF_ENV


class CliError(Exception):
    """A problem the user can fix; printed as one sentence."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD") from None


def _synthetic_size(parser: argparse.ArgumentParser, patients: int) -> None:
    """--patients and --weeks: how large a synthetic data set demo-data writes or the bench
    builds."""
    parser.add_argument("--patients", type=_positive, default=patients,
                        help="how many synthetic patients (default %(default)s)")  # fmt: skip
    parser.add_argument("--weeks", type=_positive, default=demo_data.DEFAULT_WEEKS,
                        help="weeks of data (default %(default)s)")  # fmt: skip


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} must be 1 or more")
    return n


def _port(text: str) -> int:
    n = _positive(text)
    if n > 65535:
        raise argparse.ArgumentTypeError(f"{n} is not a port number (1-65535)")
    return n


def build_parser() -> argparse.ArgumentParser:
    db_help = f"the store (default: ${store.DB_ENV}, else data/{store.DEFAULT_DB.name})"
    p = argparse.ArgumentParser(
        prog="mdt-dashboard",
        description="Review dashboard for chronic neuropathic pain rehabilitation teams.",
    )
    sub = p.add_subparsers(dest="command")

    run = sub.add_parser("run", help="start the dashboard (the default)")
    run.add_argument("--db", help=db_help)
    run.add_argument("--port", type=_port, default=8501, help="port to serve on (default 8501)")
    run.add_argument("--as-of", type=_date, help="the reference day (default: today)")

    imp = sub.add_parser("import", help="import a folder or a CSV / Parquet file")
    imp.add_argument("path", help="folder of table files, or one file named after its table")
    imp.add_argument("--db", help=db_help)
    imp.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows and write the rejected ones to a report",
    )
    imp.add_argument("--report", help="where to write the rejects report (CSV)")

    demo = sub.add_parser("demo-data", help="write the synthetic sample data set")
    _synthetic_size(demo, patients=demo_data.DEFAULT_PATIENTS)
    demo.add_argument(
        "--seed",
        type=int,
        default=demo_data.DEFAULT_SEED,
        help="the same seed writes the same data (default %(default)s)",
    )
    demo.add_argument("--end", type=_date, default=demo_data.DEMO_END, help="the data's last day")
    demo.add_argument("--out", required=True, help="folder to write the CSV files into")
    demo.add_argument("--db", help="(accepted for symmetry; demo-data writes files only)")

    rep = sub.add_parser("report", help="one patient's progress report (PDF, HTML or JSON)")
    rep.add_argument("patient_id", metavar="PATIENT_ID", help="the patient's id, e.g. P0007")
    rep.add_argument("--format", choices=report.FORMATS, default="pdf", help="default pdf")
    rep.add_argument("--as-of", type=_date, help="the reference day (default: today)")
    rep.add_argument(
        "--from", dest="start", type=_date, help="first day of the charts (default: start of care)"
    )
    rep.add_argument(
        "--private",
        action="store_true",
        help="mask as privacy mode does (alias, no birth year, notes or safety-item detail)",
    )
    rep.add_argument(
        "--out",
        help="file to write (default: progress-report-ID-DATE.EXT here; json: stdout; "
        "'-' for stdout)",
    )
    rep.add_argument("--db", help=db_help)

    agenda = sub.add_parser(
        "agenda", help="the MDT meeting agenda for a day, in meeting order (Markdown, JSON, PDF)"
    )
    agenda.add_argument("--format", choices=meeting.AGENDA_FORMATS, default="md", help="default md")
    agenda.add_argument("--as-of", type=_date, help="the meeting day (default: today)")
    agenda.add_argument(
        "--private",
        action="store_true",
        help="mask as privacy mode does (aliases, no names or safety-item detail)",
    )
    agenda.add_argument(
        "--out",
        help="file to write (default: md and json to stdout; pdf: mdt-agenda-DATE.pdf here)",
    )
    agenda.add_argument("--db", help=db_help)

    cas = sub.add_parser(
        "caseload", help="the caseload KPIs and patient-level table for a period (CSV or JSON)"
    )
    cas.add_argument("--format", choices=caseload.FORMATS, default="json", help="default json")
    cas.add_argument("--as-of", type=_date, help="the last day of the period (default: today)")
    cas.add_argument(
        "--weeks",
        type=int,
        choices=caseload.PERIOD_WEEKS,
        default=caseload.DEFAULT_WEEKS,
        help=f"the period's length (default {caseload.DEFAULT_WEEKS})",
    )
    cas.add_argument("--site", action="append", help="only this site (repeat for more)")
    cas.add_argument(
        "--clinician", action="append", help="only this primary clinician's id (repeat for more)"
    )
    cas.add_argument("--condition", action="append", help="only this condition (repeat for more)")
    cas.add_argument("--private", action="store_true", help="aliases instead of names")
    cas.add_argument("--out", help="file to write (default: stdout)")
    cas.add_argument("--db", help=db_help)

    ben = sub.add_parser(
        "bench", help="measure the dashboard at N synthetic patients (writes bench.json, bench.md)"
    )
    _synthetic_size(ben, patients=2000)
    ben.add_argument(
        "--out", required=True, help="folder for the store (reused when there) and the figures"
    )
    ben.add_argument("--db", help="(the benchmark builds its own store in --out)")

    dic = sub.add_parser("dictionary", help="write the data dictionary (Markdown)")
    dic.add_argument(
        "--out",
        default=str(ROOT / "docs" / "data-dictionary.md"),
        help="file to write (default docs/data-dictionary.md)",
    )
    dic.add_argument("--db", help="(accepted for symmetry; the dictionary comes from the schema)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]  # plain `mdt-dashboard` runs the dashboard
    args = build_parser().parse_args(argv)
    command = args.command
    try:
        if command == "run":
            return cmd_run(args)
        if command == "import":
            return cmd_import(args)
        if command == "demo-data":
            return cmd_demo_data(args)
        if command == "report":
            return cmd_report(args)
        if command == "agenda":
            return cmd_agenda(args)
        if command == "caseload":
            return cmd_caseload(args)
        if command == "bench":
            return cmd_bench(args)
        if command == "dictionary":
            return cmd_dictionary(args)
    except (
        CliError,
        store.StoreError,
        importer.ImportFailed,
        report.ReportError,
        meeting.MeetingError,
    ) as e:
        print(f"mdt-dashboard: {e}", file=sys.stderr)
        return 1
    except duckdb.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(
            f"mdt-dashboard: the database reported an error ({first}). Nothing was changed; "
            "if it happens again, report it with this message.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
    raise AssertionError(command)


def build_demo_store(db: Path, as_of: dt.date | None = None) -> importer.ImportResult:
    """Build a store from sample_data/, shifted so the data ends the day before `as_of`."""
    day = as_of or dt.date.today()
    end = day - dt.timedelta(days=1)
    shift = (end - demo_data.DEMO_END).days
    st = store.open_store(db)
    try:
        return importer.import_into(
            st, SAMPLE_DATA, via="demo", source="sample_data (synthetic)", shift_days=shift,
            keep_as_of=day,
        )  # fmt: skip
    finally:
        st.close()


def cmd_run(args) -> int:
    db = store.resolve_db_path(args.db)
    if not db.exists():
        if args.db or os.environ.get(store.DB_ENV):
            raise CliError(
                f"There is no store at {db}. Create it with: mdt-dashboard import FOLDER --db {db}"
            )
        print(f"First run: building the demo store {db} from sample_data/ (synthetic) ...")
        result = build_demo_store(db, args.as_of)
        print(result.summary())
    else:
        # Open once here so a broken or newer store is reported before the server starts.
        store.open_store(db).close()
    env = dict(os.environ)
    env[store.DB_ENV] = str(db.resolve())
    if args.as_of:
        env[AS_OF_ENV] = args.as_of.isoformat()
    cmd = [
        sys.executable,
        "-m",
        "dashboard.serve",  # streamlit run, with the dashboard's modules imported first
        "run",
        str(APP),
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
    ]
    print(f"Dashboard: http://localhost:{args.port}  (store {db}; Ctrl+C stops it)")
    os.chdir(ROOT)  # .streamlit/config.toml is read from the working directory
    os.execve(sys.executable, cmd, env)
    return 0  # not reached


def _print_progress(fraction: float, message: str) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


def cmd_import(args) -> int:
    db = store.resolve_db_path(args.db)
    result = importer.import_path(
        db, Path(args.path), skip_invalid=args.skip_invalid, progress=_print_progress
    )
    if result.errors:
        report = Path(args.report) if args.report else Path(f"rejects-{result.batch_id}.csv")
        report.write_text(importer.report_csv(result.errors), encoding="utf-8")
        shown = result.errors[: importer.SCREEN_ERRORS]
        print(f"{importer.plural(len(result.errors), 'problem')} found:")
        for e in shown:
            print("  " + e.sentence())
        if len(result.errors) > len(shown):
            print(f"  ... and {len(result.errors) - len(shown):,} more in the report.")
        print(f"Full report: {report}")
    for notice in result.notices:
        print(notice)
    print(result.summary())
    return 0 if (result.applied or result.queued_to) else 1


def cmd_report(args) -> int:
    st_ = _open_for_export(args.db, "the Patient page's 'Progress report' buttons")
    try:
        as_of = args.as_of or dt.date.today()
        built = report.build(st_, args.patient_id, as_of, args.start, privacy_mode=args.private)
        data = report.render(built, args.format)
        report.record_export(st_, built, args.format, actor="cli")
    finally:
        st_.close()
    out = args.out or (
        "-"
        if args.format == "json"
        else report.file_name(built.patient_id, as_of, built.privacy_mode, args.format)
    )
    return _emit(data, out, f"the progress report of {built.patient} as of {as_of}")


def _emit(data: bytes, out: str, what: str) -> int:
    """Write an export to stdout ('-') or to a file, saying where."""
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(out).write_bytes(data)
        print(f"Wrote {what} to {out}.")
    return 0


def _open_for_export(db_arg: str | None, where: str) -> store.Store:
    try:
        return store.open_store(store.resolve_db_path(db_arg), create=False)
    except store.StoreBusy as e:
        raise CliError(
            f"{e} Download it from {where} instead, or stop the dashboard and run this again."
        ) from e


def cmd_agenda(args) -> int:
    st_ = _open_for_export(args.db, "the Meeting page ('Agenda' buttons)")
    day = args.as_of or dt.date.today()
    try:
        doc = meeting.agenda_document(st_, day, privacy_mode=args.private)
        data = meeting.render(doc, args.format)
        meeting.record_export(st_, "agenda", day, args.format, args.private, actor="cli")
    finally:
        st_.close()
    out = args.out or (
        "-" if args.format != "pdf" else meeting.file_name("agenda", day, args.private, "pdf")
    )
    return _emit(
        data, out, f"the agenda for {day} ({importer.plural(len(doc.body['patients']), 'patient')})"
    )


def cmd_caseload(args) -> int:
    st_ = _open_for_export(args.db, "the Caseload outcomes page ('Patient table (CSV)')")
    period = caseload.Period(args.as_of or dt.date.today(), args.weeks)
    filters = caseload.Filters(
        tuple(args.site) if args.site else None,
        tuple(args.clinician) if args.clinician else None,
        tuple(args.condition) if args.condition else None,
    )
    cur = st_.cursor()
    try:
        known = {
            kind: set(group["value"])
            for kind, group in queries.run(cur, "caseload_options").groupby("kind")
        }
        for kind, values in (
            ("site", filters.sites),
            ("clinician", filters.clinicians),
            ("condition", filters.conditions),
        ):
            unknown = sorted(set(values or ()) - known.get(kind, set()))
            if unknown:
                raise CliError(
                    f"There is no {kind} {', '.join(map(repr, unknown))} in the store; "
                    f"the {kind}s are: {', '.join(sorted(known.get(kind, set())))}."
                )
        data = caseload.document(
            queries.Answers(cur),
            period,
            filters,
            args.private,
            args.format,
        )
        st_.audit(
            "cli",
            "export_caseload",
            f"{args.format}; {period.describe()}; {filters.describe()}; "
            f"privacy mode {'on' if args.private else 'off'}",
        )
    finally:
        cur.close()
        st_.close()
    return _emit(data, args.out or "-", f"the caseload for {period.describe()}")


def cmd_demo_data(args) -> int:
    out = Path(args.out)
    counts = demo_data.generate(out, args.patients, args.weeks, args.seed, args.end)
    demo_data.write_readme(out, args.patients, args.weeks, args.seed, args.end)
    total = sum(counts.values())
    print(f"Wrote {total:,} synthetic rows in {len(counts)} files to {out}.")
    return 0


def cmd_bench(args) -> int:
    from dashboard import bench  # only the benchmark needs it

    out = Path(args.out)
    bench.run(args.patients, args.weeks, out)
    print((out / "bench.md").read_text(encoding="utf-8"))
    print(f"Wrote {out / 'bench.json'} and {out / 'bench.md'}.")
    return 0


def cmd_dictionary(args) -> int:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(schema.data_dictionary_markdown() + "\n", encoding="utf-8")
    print(f"Wrote the data dictionary to {out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
