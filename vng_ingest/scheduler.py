"""``vng-ingest run``: poll on schedule (and on IMAP IDLE news), extract, weekly report.

Polling and extraction are two jobs. The poll job (APScheduler, coalesce and
max_instances=1) stores new mail and does the IMAP after-actions under the store's
``INTAKE`` lock, then wakes the extraction job (its own thread, ``Extractor``), which
extracts under the ``EXTRACTION`` lock: a slow extraction never delays the next poll. The
locks (taken per job run, not for the life of the service) keep a second process
(started by mistake, or a `vng-ingest import` meanwhile) from doing the same part at
the same time. A job that finds its lock held skips this turn. After failures the poll
backs off exponentially, capped at ``poll.max_backoff_minutes``.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from typing import Callable

from store import Store
from store.locks import EXTRACTION, INTAKE, StoreBusy, busy_text
from store.schema import utcnow
from vng_ingest.config import Config

log = logging.getLogger(__name__)

POLL_LOCK = INTAKE
POLL_JOB = "poll"
NO_WAIT = timedelta(0)


def poll_job(config: Config, store: Store, force: bool = False,
             on_stored: Callable[[], None] | None = None) -> str:
    """One scheduled poll; returns what happened in a word: polled, skipped-lock,
    skipped-backoff, failed. ``on_stored`` is called when new messages were stored."""
    if config.source.kind == "imap" and not force:
        from ingest.imap import account_name, next_poll_at
        due = next_poll_at(store, account_name(config), config.poll)
        slack = timedelta(seconds=min(30.0, config.poll.interval_minutes * 6))
        if due is not None and utcnow() + slack < due:
            log.info("poll skipped: backing off after failures until %s", due.isoformat(timespec="seconds"))
            return "skipped-backoff"
    from vng_ingest.service import fetch
    try:
        summary = fetch(config, store, "run", wait=NO_WAIT)
    except StoreBusy:
        log.warning("poll skipped: %s is storing mail in this database", busy_text(store, INTAKE))
        return "skipped-lock"
    except Exception as error:      # noqa: BLE001 - the next poll tries again
        log.error("poll failed: %s", error.__class__.__name__, exc_info=log.isEnabledFor(logging.DEBUG))
        return "failed"
    log.info("poll: %d new, %d already stored%s", len(summary.ingested.new), summary.ingested.duplicates,
             f"; error: {summary.source_error}" if summary.source_error else "")
    if summary.ingested.new and on_stored:
        on_stored()
    return "polled"


def extract_job(store: Store) -> str:
    """Extract what was stored; returns extracted, skipped-lock or failed."""
    from vng_ingest.service import Summary, extract_pending
    try:
        summary = extract_pending(store, "run", Summary(source="store"), wait=NO_WAIT)
    except StoreBusy:
        log.info("extraction skipped: %s is extracting in this database", busy_text(store, EXTRACTION))
        return "skipped-lock"
    p = summary.processed
    if p.processed or summary.extract_error:
        log.info("extracted: %d messages, %d offers, %d need review, %d failed to parse%s", p.processed,
                 p.offers, p.needs_review, p.failed,
                 f"; error: {summary.extract_error}" if summary.extract_error else "")
    return "failed" if summary.extract_error else "extracted"


class Extractor(threading.Thread):
    """The extraction job in a thread of its own: woken by every poll that stored mail (a
    wake-up during a run makes it run again), and once an interval anyway."""

    def __init__(self, store: Store, stop: threading.Event, every_seconds: float):
        super().__init__(name="extractor", daemon=True)
        self.store, self.stop, self.every = store, stop, every_seconds
        self.wake = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.wake.clear()
            try:
                extract_job(self.store)
            except Exception as error:      # noqa: BLE001 - tried again on the next wake-up
                log.error("extraction failed: %s", error.__class__.__name__)
            self.wake.wait(self.every)


def retention_job(config: Config, store: Store) -> None:
    """Daily: erase personal data older than the configured retention."""
    from store.locks import writer_lock
    from store.retention import purge
    with writer_lock(store, "run", EXTRACTION):
        purged = purge(store, config.retention.personal_data_days)
    if purged.anything:
        log.info("retention: %s", purged.text())


def build_scheduler(config: Config, store: Store, on_stored: Callable[[], None] | None = None):
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                  "misfire_grace_time": 300})
    scheduler.add_job(poll_job, IntervalTrigger(minutes=config.poll.interval_minutes), id=POLL_JOB,
                      kwargs=dict(config=config, store=store, on_stored=on_stored),
                      next_run_time=utcnow(), coalesce=True, max_instances=1)
    scheduler.add_job(retention_job, "cron", hour=3, minute=30, id="retention", args=(config, store),
                      timezone=config.report.schedule.timezone)
    try:
        from reports.schedule import add_report_job
    except ImportError:
        log.info("no report schedule module; only polling is scheduled")
    else:
        add_report_job(scheduler, config, store)
    return scheduler


def poll_now(scheduler) -> None:
    """Run the poll job as soon as possible (IDLE news); coalesced with a running one."""
    job = scheduler.get_job(POLL_JOB)
    if job is not None:
        job.modify(next_run_time=utcnow())


def run_scheduler(config: Config, store: Store, stop: threading.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set); 0 on a clean stop."""
    stop = stop or threading.Event()
    extractor = Extractor(store, stop, config.poll.interval_minutes * 60)
    scheduler = build_scheduler(config, store, on_stored=extractor.wake.set)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    scheduler.start()
    extractor.start()
    watcher = None
    if config.source.kind == "imap" and config.source.imap and config.source.imap.idle:
        from ingest.imap_idle import watch
        watcher = threading.Thread(target=watch, args=(config, store, lambda: poll_now(scheduler), stop),
                                   name="imap-idle", daemon=True)
        watcher.start()
    log.info("scheduler running: poll every %s minutes%s", config.poll.interval_minutes,
             " plus IMAP IDLE" if watcher else "")
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)      # the jobs release their locks as they end
        extractor.wake.set()
        extractor.join()
        if watcher:
            watcher.join(timeout=10)
    return 0
