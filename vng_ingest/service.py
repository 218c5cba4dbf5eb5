"""The jobs the CLI and the scheduler run: poll, import, extract, report, status.

Each job takes the store's writer locks (``store.locks.writer_lock``) for its part only:
``INTAKE`` while storing new mail (and acting on the IMAP server), ``EXTRACTION`` while
extracting. So two commands started at once store and extract every message once, and a
slow extraction never holds up storing or the IMAP after-actions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from ingest.local import SourceError, count, read_paths
from store import Store
from store.locks import DEFAULT_WAIT, EXTRACTION, INTAKE, writer_lock
from vng_ingest.config import Config
from vng_ingest.pipeline import IngestResult, ProcessResult, ingest, process

log = logging.getLogger(__name__)


@dataclass
class Summary:
    source: str
    ingested: IngestResult = field(default_factory=IngestResult)
    processed: ProcessResult = field(default_factory=ProcessResult)
    report: Path | None = None
    source_error: str | None = None
    extract_error: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.source_error or self.extract_error or self.ingested.not_stored)

    def error_line(self) -> str:
        """What failed, in the one line a failed command prints on stderr."""
        if self.source_error:
            return f"source error: {self.source_error}"
        if self.extract_error:
            return f"extraction error: {self.extract_error}"
        return f"database error: {self.ingested.not_stored} message(s) could not be stored ({self.ingested.store_error})"

    def text(self) -> str:
        p = self.processed
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(p.kinds.items())) or "-"
        lines = [f"source: {self.source}",
                 f"messages: {len(self.ingested.new)} new, {self.ingested.duplicates} already stored",
                 f"processed: {p.processed} ({kinds}); failed to parse: {p.failed}",
                 f"offers: {p.offers} extracted, {p.needs_review} need review, "
                 f"{p.offers - p.needs_review} accepted automatically"]
        if self.report:
            lines.append(f"report: {self.report}")
        if self.source_error:
            lines.append(f"source error: {self.source_error}")
        if self.extract_error:
            lines.append(f"extraction error: {self.extract_error}")
        if self.ingested.not_stored and not self.source_error:
            lines.append(f"not stored: {self.ingested.not_stored} message(s) the database refused "
                         f"({self.ingested.store_error}); import them again once it is fixed")
        return "\n".join(lines)


def fetch(config: Config, store: Store, command: str = "poll", wait: timedelta = DEFAULT_WAIT) -> Summary:
    """Store what is new at the configured source (and tidy the mailbox); no extraction."""
    summary = Summary(source=config.source.name)
    with writer_lock(store, command, INTAKE, wait=wait):
        if config.source.kind == "imap":
            from ingest.imap import poll_account
            outcome = poll_account(config, store)
            summary.ingested = outcome.ingested
            summary.source_error = outcome.error
        else:
            try:
                summary.ingested = ingest(store, read_paths([config.source.path]))
            except SourceError as error:
                summary.source_error = str(error)
    return summary


def extract_pending(store: Store, command: str, summary: Summary, wait: timedelta = DEFAULT_WAIT) -> Summary:
    """Extract every stored message still waiting for it; a failure is named, not raised."""
    from ingest.imap_connect import db_reason
    from ingest.imap_sync import pause_point
    with writer_lock(store, command, EXTRACTION, wait=wait):
        pause_point("extract")
        try:
            summary.processed = process(store)
        except SQLAlchemyError as error:
            log.error("extraction stopped: the store refused a write (%s)", db_reason(error))
            summary.extract_error = f"database: the store refused a write ({db_reason(error)})"
        except Exception as error:      # noqa: BLE001 - reported; the raw messages are safe
            log.error("extraction stopped: unexpected error (%s)", error.__class__.__name__,
                      exc_info=log.isEnabledFor(logging.DEBUG))
            summary.extract_error = f"extraction: unexpected error ({error.__class__.__name__})"
    return summary


def poll_once(config: Config, store: Store, command: str = "poll") -> Summary:
    """Fetch what is new at the configured source, then (with the IMAP session closed) extract it."""
    return extract_pending(store, command, fetch(config, store, command))


def import_paths(config: Config, store: Store, paths: list[Path], progress: bool = True) -> Summary:
    summary = Summary(source=", ".join(str(p) for p in paths))
    with writer_lock(store, "import", INTAKE):
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=count(paths), unit="msg", desc="import", disable=None)
        summary.ingested = ingest(store, read_paths(paths), on_each=bar.update if bar else None)
        if bar:
            bar.close()
    return extract_pending(store, "import", summary)


def run_once(config: Config, store: Store, write_report: bool = True) -> Summary:
    summary = poll_once(config, store, command="run")
    if write_report:
        from reports.weekly import generate_report
        summary.report = generate_report(config, store)
    return summary


def run_forever(config: Config, store: Store) -> int:
    from vng_ingest.scheduler import run_scheduler
    return run_scheduler(config, store)


def status(config: Config, store: Store) -> str:
    from store.messages import counts_by_kind, counts_by_state
    from store.status import last_polls, last_report, problem_counts, problem_messages, reason
    with store.session() as session:
        states = counts_by_state(session)
        kinds = counts_by_kind(session)
        problems = problem_counts(session)
        troubled = problem_messages(session)
        polls = last_polls(session)
        report = last_report(session)
    lines = [f"database: {store.engine.url.render_as_string(hide_password=True)}",
             "messages per state: " + (", ".join(f"{k} {v}" for k, v in sorted(states.items())) or "none"),
             "messages per kind: " + (", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"),
             "messages with problems: " + (", ".join(f"{k} {v}" for k, v in sorted(problems.items())) or "none")]
    for poll in polls:
        lines.append(f"last poll {poll.account} {poll.folder}: {_when(poll.last_poll_at)}, last success "
                     f"{_when(poll.last_success_at)}" + (f", error: {poll.last_error}" if poll.last_error else ""))
    if not polls:
        lines.append("last poll: never (IMAP) or local source")
    lines.append(f"last report: {_when(report.generated_at)} {report.path}" if report else "last report: never")
    for message in troubled:
        lines.append(f"{message.state}: message {message.id}: {reason(message.problems, message.error)}")
    return "\n".join(lines)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "never"
