"""The scheduler's poll job: the store lock, backoff after failures, IDLE pickup, clean stop."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from conftest import append, assert_stored_once, generated, imap_config

from ingest.imap import backoff, next_poll_at, poll_account
from store.locks import acquire, holder_of, release
from vng_ingest.config import PollConfig
from vng_ingest.scheduler import POLL_LOCK, poll_job, run_scheduler
from tests.waiting import wait_for


def test_lock_is_exclusive_expires_and_is_released(store):
    assert acquire(store, "poll", "host-a:1", timedelta(minutes=5))
    assert not acquire(store, "poll", "host-b:2", timedelta(minutes=5))
    assert acquire(store, "poll", "host-a:1", timedelta(minutes=5))          # extending our own
    assert holder_of(store, "poll") == "host-a:1"
    assert not release(store, "poll", "host-b:2")
    assert release(store, "poll", "host-a:1")
    assert holder_of(store, "poll") is None
    assert acquire(store, "poll", "host-a:1", timedelta(seconds=-1))         # already expired
    assert acquire(store, "poll", "host-b:2", timedelta(minutes=5))          # so it can be taken over


def test_second_process_skips_the_poll_while_the_lock_is_held(dovecot, store, monkeypatch, caplog):
    messages = generated(2)
    append(dovecot, messages)
    config = imap_config(dovecot, monkeypatch)
    assert acquire(store, POLL_LOCK, "other-host:99:123:import", timedelta(minutes=5))
    assert poll_job(config, store) == "skipped-lock"
    assert "poll skipped: import on other-host, pid 99" in caplog.text
    release(store, POLL_LOCK, "other-host:99:123:import")
    assert poll_job(config, store) == "polled"
    assert holder_of(store, POLL_LOCK) is None
    assert_stored_once(store, messages)


def test_backoff_doubles_from_the_interval_and_is_capped():
    poll = PollConfig(interval_minutes=5, max_backoff_minutes=60)
    assert [backoff(n, poll) for n in range(6)] == [timedelta(0)] + [
        timedelta(minutes=m) for m in (5, 10, 20, 40, 60)]
    assert backoff(100, poll) == timedelta(minutes=60)


def test_scheduler_backs_off_after_network_failures(dovecot, store, monkeypatch):
    config = imap_config(dovecot, monkeypatch)
    dovecot.stop()
    for _ in range(3):
        poll_account(config, store)
    due = next_poll_at(store, config.source.name, config.poll)
    assert due is not None
    assert poll_job(config, store) == "skipped-backoff"
    dovecot.start()
    assert poll_job(config, store, force=True) == "polled"
    assert next_poll_at(store, config.source.name, config.poll) is None


def test_run_scheduler_polls_at_start_picks_up_idle_news_and_stops(dovecot, store, monkeypatch):
    first = generated(2, tag="start")
    append(dovecot, first)
    config = imap_config(dovecot, monkeypatch, idle=True)
    config.poll.interval_minutes = 60                 # only the start-up poll and IDLE news
    stop = threading.Event()
    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("code", run_scheduler(config, store, stop)))
    runner.start()
    try:
        wait_for(lambda: stored(store) == 2, timeout=20)
        time.sleep(1.0)                               # let the IDLE watcher settle on INBOX
        later = generated(3, tag="idle")
        append(dovecot, later)
        wait_for(lambda: stored(store) == 5, timeout=30)
    finally:
        stop.set()
        runner.join(30)
    assert result.get("code") == 0
    assert_stored_once(store, first + later)


def stored(store) -> int:
    from sqlalchemy import func, select

    from store.schema import Message
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Message))
