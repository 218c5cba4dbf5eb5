"""The jobs the CLI and the scheduler run: poll, import, process, report, status."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ingest.local import SourceError, count, read_paths
from store import Store
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
        return "\n".join(lines)


def poll_once(config: Config, store: Store) -> Summary:
    """Fetch what is new at the configured source, then extract it."""
    summary = Summary(source=config.source.name)
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
    summary.processed = process(store)
    return summary


def import_paths(config: Config, store: Store, paths: list[Path], progress: bool = True) -> Summary:
    summary = Summary(source=", ".join(str(p) for p in paths))
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=count(paths), unit="msg", desc="import", disable=None)
    summary.ingested = ingest(store, read_paths(paths), on_each=bar.update if bar else None)
    if bar:
        bar.close()
    summary.processed = process(store)
    return summary


def run_once(config: Config, store: Store, write_report: bool = True) -> Summary:
    summary = poll_once(config, store)
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
