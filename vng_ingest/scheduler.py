"""``vng-ingest run``: poll on schedule (and on IMAP IDLE news), plus the weekly report job.

APScheduler runs the poll with coalesce and max_instances=1 inside one process; a lock in
the store keeps a second process (started by mistake) from polling at the same time.
After failures the poll backs off exponentially, capped at ``poll.max_backoff_minutes``.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta

from store import Store
from store.locks import acquire, default_holder, holder_of, release
from store.schema import utcnow
from vng_ingest.config import Config

log = logging.getLogger(__name__)

POLL_LOCK = "poll"
POLL_JOB = "poll"


def lock_ttl(config: Config) -> timedelta:
    """Long enough for a big poll; short enough that a crashed holder does not block for long."""
    return timedelta(minutes=max(10.0, 2 * config.poll.interval_minutes))


def poll_job(config: Config, store: Store, holder: str | None = None, force: bool = False) -> str:
    """One scheduled poll; returns what happened in a word: polled, skipped-lock, skipped-backoff."""
    holder = holder or default_holder()
    if config.source.kind == "imap" and not force:
        from ingest.imap import account_name, next_poll_at
        due = next_poll_at(store, account_name(config), config.poll)
        slack = timedelta(seconds=min(30.0, config.poll.interval_minutes * 6))
        if due is not None and utcnow() + slack < due:
            log.info("poll skipped: backing off after failures until %s", due.isoformat(timespec="seconds"))
            return "skipped-backoff"
    if not acquire(store, POLL_LOCK, holder, lock_ttl(config)):
        log.warning("poll skipped: another vng-ingest process (%s) is polling this database",
                    holder_of(store, POLL_LOCK) or "unknown")
        return "skipped-lock"
    try:
        from vng_ingest.service import poll_once
        summary = poll_once(config, store)
        log.info("poll: %d new, %d already stored, %d processed%s", len(summary.ingested.new),
                 summary.ingested.duplicates, summary.processed.processed,
                 f"; error: {summary.source_error}" if summary.source_error else "")
        return "polled"
    except Exception:
        log.exception("poll failed")
        return "failed"
    finally:
        release(store, POLL_LOCK, holder)


def retention_job(config: Config, store: Store) -> None:
    """Daily: erase personal data older than the configured retention."""
    from store.retention import purge
    purged = purge(store, config.retention.personal_data_days)
    if purged.anything:
        log.info("retention: %s", purged.text())


def build_scheduler(config: Config, store: Store, holder: str | None = None):
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                  "misfire_grace_time": 300})
    scheduler.add_job(poll_job, IntervalTrigger(minutes=config.poll.interval_minutes), id=POLL_JOB,
                      args=(config, store, holder), next_run_time=utcnow(),
                      coalesce=True, max_instances=1)
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
    holder = default_holder()
    scheduler = build_scheduler(config, store, holder)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    scheduler.start()
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
        scheduler.shutdown(wait=True)
        release(store, POLL_LOCK, holder)
        if watcher:
            watcher.join(timeout=10)
    return 0
