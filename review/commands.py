"""The review-related CLI subcommands: accounts, and the labelled corpus made from reviews."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from vng_ingest.config import Config


def _store(config: Config):
    from store import open_store
    return open_store(config.database.url)


def cmd_user_add(args, config: Config) -> int:
    from review.users import UserError, add_user
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            print("passwords differ; nothing changed", file=sys.stderr)
            return 1
    try:
        with _store(config).session() as session:
            add_user(session, args.username, password, role=args.role)
    except UserError as error:
        print(f"user-add: {error}", file=sys.stderr)
        return 1
    print(f"user {args.username} ({args.role}) can log in")
    return 0


def cmd_user_disable(args, config: Config) -> int:
    from review.users import UserError, disable_user
    try:
        with _store(config).session() as session:
            disable_user(session, args.username)
    except UserError as error:
        print(f"user-disable: {error}", file=sys.stderr)
        return 1
    print(f"user {args.username} disabled")
    return 0


def cmd_export_labels(args, config: Config) -> int:
    from review.labels import export_labels
    folder = Path(args.folder)
    with _store(config).session() as session:
        result = export_labels(session, folder)
    print(f"wrote {len(result.written)} reviewed messages to {folder} (truth.jsonl); "
          f"{result.skipped} reviewed in part were left out"
          + (f"; {result.erased} whose text was erased (retention) were left out" if result.erased else ""))
    return 0


def cmd_score_labels(args, config: Config) -> int:
    from review.labels import format_scores, score_labels
    folder = Path(args.folder)
    if not (folder / "truth.jsonl").is_file():
        print(f"score-labels: {folder / 'truth.jsonl'} not found (make it with export-labels)", file=sys.stderr)
        return 1
    result, scorer = score_labels(folder)
    print(format_scores(result))
    print(f"scored with {scorer}")
    return 0


def add_commands(sub) -> None:
    add = sub.add_parser("user-add", help="create a review account (or reset its password and role)")
    add.add_argument("username")
    add.add_argument("--role", choices=("kcc", "admin"), default="kcc")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_user_add)

    disable = sub.add_parser("user-disable", help="stop a review account from logging in")
    disable.add_argument("username")
    disable.set_defaults(func=cmd_user_disable)

    export = sub.add_parser("export-labels", help="write reviewed messages as a labelled corpus "
                                                  "(.eml files + truth.jsonl)")
    export.add_argument("folder")
    export.set_defaults(func=cmd_export_labels)

    score = sub.add_parser("score-labels", help="score the current extractor on a labelled folder")
    score.add_argument("folder")
    score.set_defaults(func=cmd_score_labels)
