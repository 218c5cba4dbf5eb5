"""The command line: ``vng-ingest`` (same as ``python run_ingest.py``)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from vng_ingest.config import Config, load_config
from vng_ingest.errors import EXIT_OK, EXIT_OPERATOR_ERROR, EXIT_SOURCE_FAILED, PathError, operator_error
from vng_ingest.reader import Budget, configure as configure_reader

log = logging.getLogger("vng_ingest")

DESCRIPTION = """\
vng-ingest reads municipalities' e-mail about reception locations for refugees
from Ukraine, extracts the offered locations, and writes the weekly workbook
for the ministries. Settings come from config.yaml (see --config).
"""


def _store(config: Config):
    from store import open_store
    return open_store(config.database.url)


def cmd_run(args, config: Config) -> int:
    from vng_ingest.service import run_forever, run_once
    if args.once:
        summary = run_once(config, _store(config), write_report=not args.no_report)
        return _finish(summary)
    return run_forever(config, _store(config))


def cmd_poll(args, config: Config) -> int:
    from vng_ingest.service import poll_once
    summary = poll_once(config, _store(config))
    return _finish(summary)


def _finish(summary) -> int:
    """Print a poll's summary; a source that failed is one line on stderr and exit status 1."""
    print(summary.text())
    if summary.failed:
        print(summary.error_line(), file=sys.stderr)
        return EXIT_SOURCE_FAILED
    return EXIT_OK


def cmd_import(args, config: Config) -> int:
    from ingest.local import split_readable
    from vng_ingest.service import import_paths
    readable, refused = split_readable([Path(p) for p in args.paths])
    if readable:
        summary = import_paths(config, _store(config), readable, progress=not args.quiet)
        print(summary.text())
    for line in refused:
        print(f"not imported: {line}", file=sys.stderr)
    return EXIT_OPERATOR_ERROR if refused else EXIT_OK


def cmd_extract(args, config: Config) -> int:
    from ingest.local import RefusedFile, read_regular
    from vng_ingest.reader import shared_reader
    for name in args.files:
        path = Path(name)
        try:
            raw, _ = read_regular(path)
        except RefusedFile as error:
            raise PathError(str(error)) from None
        _, extraction = shared_reader().read(raw)       # under the same budget as the pipeline
        print(json.dumps(extraction.record(file=path.name, with_meta=not args.plain), ensure_ascii=False))
    return 0


def cmd_reprocess(args, config: Config) -> int:
    from store.locks import EXTRACTION, writer_lock
    from vng_ingest.pipeline import process, reprocess_ids
    store = _store(config)
    with writer_lock(store, "reprocess", EXTRACTION):
        result = process(store, reprocess_ids(store, only_older=not args.all))
    print(f"reprocessed {result.processed} messages: {result.offers} offers, "
          f"{result.needs_review} need review, {result.failed} failed")
    return 0


def cmd_report(args, config: Config) -> int:
    from reports.mail import MailError
    from reports.weekly import generate_report
    try:
        path = generate_report(config, _store(config), send=args.send)
    except MailError as error:
        print(f"the report was written, but mailing it failed: {error}", file=sys.stderr)
        return 1
    print(f"report written: {path}")
    return 0


def cmd_review(args, config: Config) -> int:
    from review.app import serve
    serve(config, host=args.host, port=args.port)
    return 0


def cmd_enable(args, config: Config) -> int:
    from ingest.imap import account_name, enable_account
    if config.source.kind != "imap":
        print("the configured source is not an IMAP account; nothing to enable", file=sys.stderr)
        return 2
    enable_account(_store(config), account_name(config))
    print(f"polling enabled again for {account_name(config)}")
    return 0


def cmd_purge(args, config: Config) -> int:
    from store.locks import EXTRACTION, writer_lock
    from store.retention import purge
    days = args.days if args.days is not None else config.retention.personal_data_days
    if days is None:
        print("retention is off (retention.personal_data_days: null); nothing erased")
        return 0
    if days < 0:
        print(f"purge: --days must be 0 or more (got {days})", file=sys.stderr)
        return 2
    print("erasing personal data of all messages received before now" if days == 0 else
          f"erasing personal data of messages received more than {days} days ago")
    store = _store(config)
    with writer_lock(store, "purge", EXTRACTION):
        print(purge(store, days).text())
    return 0


def cmd_status(args, config: Config) -> int:
    from vng_ingest.service import status
    print(status(config, _store(config)))
    return 0


def cmd_train_triage(args, config: Config) -> int:
    from parsers.textcat import run
    return run(args)


def cmd_train_confidence(args, config: Config) -> int:
    from parsers.calibration import run
    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vng-ingest", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="config file (default: ./config.yaml, or $VNG_INGEST_CONFIG; "
                                         "without one: the bundled sample mailbox and SQLite)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="poll the mailbox on schedule and write the weekly report")
    run.add_argument("--once", action="store_true", help="poll, extract and report once, then stop")
    run.add_argument("--no-report", action="store_true", help="with --once: do not write the workbook")
    run.set_defaults(func=cmd_run)

    poll = sub.add_parser("poll", help="fetch new mail from the configured source and extract offers")
    poll.add_argument("--once", action="store_true", default=True, help="poll once and stop (default)")
    poll.set_defaults(func=cmd_poll)

    imp = sub.add_parser("import", help="import .eml files, folders of them, Maildirs or mbox files")
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    imp.set_defaults(func=cmd_import)

    ext = sub.add_parser("extract", help="print the extracted record of .eml files as JSON lines "
                                         "(no database)")
    ext.add_argument("files", nargs="+", metavar="FILE.eml")
    ext.add_argument("--plain", action="store_true", help="only the corpus fields, without "
                                                          "confidence, evidence and needs_review")
    ext.set_defaults(func=cmd_extract)

    rep = sub.add_parser("reprocess", help="extract stored messages again with the current extractor")
    rep.add_argument("--all", action="store_true", help="every message, not only those extracted "
                                                        "by an older extractor version")
    rep.set_defaults(func=cmd_reprocess)

    report = sub.add_parser("report", help="write the weekly workbook now")
    report.add_argument("--send", action="store_true", help="also mail it to the configured recipients")
    report.set_defaults(func=cmd_report)

    review = sub.add_parser("review", help="serve the review screen for KCC staff")
    review.add_argument("--host", help="address to listen on (default from config)")
    review.add_argument("--port", type=int, help="port (default from config)")
    review.set_defaults(func=cmd_review)

    enable = sub.add_parser("enable-account", help="poll the IMAP account again after its login failed "
                                                   "(once the password or token is fixed)")
    enable.set_defaults(func=cmd_enable)

    purge = sub.add_parser("purge", help="erase personal data older than retention.personal_data_days "
                                         "(also runs daily under `run`)")
    purge.add_argument("--days", type=int, help="override the configured number of days")
    purge.set_defaults(func=cmd_purge)

    stat = sub.add_parser("status", help="messages per state, last poll, last report, failures")
    stat.set_defaults(func=cmd_status)

    from parsers.textcat import add_arguments
    train = sub.add_parser("train-triage", help="train the triage classifier on parsers/training/triage.jsonl "
                                                "and report held-out accuracy")
    add_arguments(train)
    train.set_defaults(func=cmd_train_triage)

    from parsers.calibration import add_arguments as add_calibration_arguments
    calibrate = sub.add_parser("train-confidence", help="fit the per-field confidence model on the labelled "
                                                        "sets (needs scikit-learn and the shared scorer)")
    add_calibration_arguments(calibrate)
    calibrate.set_defaults(func=cmd_train_confidence)

    from review.commands import add_commands   # user-add, user-disable, export-labels, score-labels
    add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit status: 0 done, 1 the source or the mailing failed (the data is
    safe, try later), 2 an operator's mistake, told in one line on stderr without a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    url = ""
    try:
        config = load_config(args.config)
        url = config.database.url
        configure_reader(Budget(seconds=config.reading.message_seconds,
                                memory=config.reading.message_memory_mb * 1024 * 1024),
                         accept_threshold=config.review.accept_threshold)
        logging.basicConfig(level=logging.DEBUG if args.verbose else config.log_level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        return args.func(args, config)
    except Exception as error:
        problem = operator_error(error, url)
        if problem is None:
            raise
        print(problem.line(), file=sys.stderr)
        return problem.exit_status


if __name__ == "__main__":
    sys.exit(main())
