"""IMAP IDLE: near-real-time pickup. Only a trigger: the scheduler's poll does the work.

A watcher keeps one connection idling on the first configured folder and calls
``on_news`` when the server reports new mail. Any failure just means a reconnect after a
growing pause; the regular poll keeps running, so IDLE can never lose a message. While
the poll backs off after failures (a refused login, an outage), IDLE does not log in either.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from ingest.imap_connect import close, connect
from store.schema import utcnow

log = logging.getLogger(__name__)

#: Servers drop an IDLE after 30 minutes; renew well before that.
RENEW_SECONDS = 9 * 60


def watch(config, store, on_news: Callable[[], None], stop: threading.Event,
          check_seconds: float = 1.0) -> None:
    """Idle until ``stop`` is set, calling ``on_news`` for every burst of new mail."""
    from ingest.imap import account_name, next_poll_at, tokens_for
    imap = config.source.imap
    account = account_name(config)
    pause = 1.0
    while not stop.is_set():
        due = next_poll_at(store, account, config.poll)      # the poll's backoff binds IDLE too
        if due is not None and utcnow() < due:
            stop.wait(min(60.0, (due - utcnow()).total_seconds()))
            continue
        client = None
        try:
            client = connect(imap, tokens_for(imap, store, account))
            client.select_folder(imap.folders[0], readonly=True)
            pause = 1.0
            while not stop.is_set():
                client.idle()
                started = time.monotonic()
                news = False
                while not stop.is_set() and time.monotonic() - started < RENEW_SECONDS:
                    responses = client.idle_check(timeout=check_seconds)
                    if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                        news = True
                        break
                client.idle_done()
                if news:
                    on_news()
        except Exception as error:  # noqa: BLE001 - the poll is the fallback; just try again later
            log.info("IDLE connection ended (%s); retrying in %.0f s", error.__class__.__name__, pause)
            stop.wait(pause)
            pause = min(pause * 2, config.poll.max_backoff_minutes * 60)
        finally:
            if client is not None:
                close(client)
