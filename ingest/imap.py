"""IMAP ingest: poll one account, store every message exactly once, then tidy the mailbox.

``poll_account`` is what ``vng_ingest.service.poll_once`` calls. It stores and tidies
only; extraction runs after the IMAP session is closed. It never raises for server or
store trouble: the outcome carries the error in plain words, named by its cause (login,
outage, tls, folder, network, server, database, internal), and ``sync_state`` records it
(per account in the row with folder ``(account)``, per folder in the folder's row) so
``vng-ingest status`` can show it.

Every failed poll in a row makes the next one wait longer: the interval, then 2, 4, 8 …
intervals, capped at ``poll.max_backoff_minutes``. A wrong secret (``login``) also marks
the account disabled with a hint to `vng-ingest enable-account`; it is still tried on
that growing schedule, so a wrong password costs a few logins an hour at most and the
account comes back by itself once the secret is fixed. A sign-in service that is
temporarily down (``outage``) just backs off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ingest.imap_auth import CallbackCache, TokenProvider, token_provider
from ingest.imap_connect import ImapProblem, as_problem, close, connect
from ingest.imap_sync import ensure_folders, folder_state, sync_folder, touch
from store import Store
from store.schema import utcnow
from vng_ingest.config import Config, ImapConfig, PollConfig
from vng_ingest.pipeline import IngestResult

log = logging.getLogger(__name__)

ACCOUNT_ROW = "(account)"


@dataclass
class PollOutcome:
    ingested: IngestResult = field(default_factory=IngestResult)
    error: str | None = None
    folder_errors: dict[str, str] = field(default_factory=dict)


def account_name(config: Config) -> str:
    return config.source.name


def poll_account(config: Config, store: Store) -> PollOutcome:
    """Fetch and store what is new in every configured folder of the account, and do the
    after-actions; ``outcome.ingested.new`` are the ids of the newly stored messages."""
    imap = config.source.imap
    assert imap is not None
    account = account_name(config)
    skip = disabled_reason(store, account, config.poll)
    if skip:
        return PollOutcome(error=skip)
    outcome = PollOutcome()
    client = None
    try:
        client = connect(imap, tokens_for(imap, store, account))
        outcome.folder_errors = ensure_folders(client, imap)
        for folder in imap.folders:
            if folder in outcome.folder_errors:
                touch(store, account, folder, "folder: " + outcome.folder_errors[folder])
                continue
            sync_folder(client, store, imap, account, folder, ingested=outcome.ingested)
            touch(store, account, folder, None)
    except Exception as error:      # noqa: BLE001 - every server failure becomes a recorded error
        problem = as_problem(error)
        if not isinstance(error, ImapProblem):
            log.warning("%s: poll failed: %s", account, problem, exc_info=log.isEnabledFor(logging.DEBUG))
        try:
            record_account(store, account, problem, config.poll)
        except Exception as failed:     # noqa: BLE001 - the store itself may be what failed
            log.error("%s: could not record the failed poll (%s)", account, failed.__class__.__name__)
        outcome.error = str(problem)
        return outcome
    finally:
        if client is not None:
            close(client)
    record_account(store, account, None, config.poll)
    problems = [f"folder: {text}" for text in outcome.folder_errors.values()]
    if outcome.ingested.not_stored:
        problems.append(f"database: {outcome.ingested.not_stored} message(s) could not be stored "
                        f"({outcome.ingested.store_error}); they stay on the server and are asked for again")
    if problems:
        outcome.error = "; ".join(problems)
    return outcome


def tokens_for(imap: ImapConfig, store: Store, account: str) -> TokenProvider | None:
    if imap.auth == "password":
        return None
    return token_provider(imap, CallbackCache(lambda: load_token_cache(store, account),
                                              lambda text: save_token_cache(store, account, text)))


def load_token_cache(store: Store, account: str) -> str | None:
    with store.session() as session:
        return folder_state(session, account, ACCOUNT_ROW).token_cache


def save_token_cache(store: Store, account: str, text: str) -> None:
    with store.session() as session:
        folder_state(session, account, ACCOUNT_ROW).token_cache = text


def record_account(store: Store, account: str, problem: ImapProblem | None, poll: PollConfig) -> None:
    """Remember how the connection and login went (and mark the account disabled on a wrong secret)."""
    with store.session() as session:
        state = folder_state(session, account, ACCOUNT_ROW)
        state.last_poll_at = utcnow()
        if problem is None:
            state.last_success_at = state.last_poll_at
            state.last_error, state.failures, state.disabled_reason = None, 0, None
            return
        state.last_error = str(problem)
        state.failures = (state.failures or 0) + 1
        if problem.is_auth:
            state.disabled_reason = str(problem)
            log.error("%s: login refused, next try in %s: %s", account, backoff(state.failures, poll),
                      problem)
        else:
            log.warning("%s: %s", account, problem)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def disabled_reason(store: Store, account: str, poll: PollConfig, now: datetime | None = None) -> str | None:
    """Why this account is not polled now: a refused login, until its backoff has passed."""
    now = now or utcnow()
    with store.session() as session:
        state = folder_state(session, account, ACCOUNT_ROW)
        if not state.disabled_reason or state.last_poll_at is None:
            return None
        retry_at = _aware(state.last_poll_at) + backoff(state.failures, poll)
        if now >= retry_at:
            return None
        return (f"polling stopped after a failed login ({state.disabled_reason}); next try after "
                f"{retry_at.isoformat(timespec='minutes')}, or right away after `vng-ingest enable-account` "
                "once the secret is fixed")


def enable_account(store: Store, account: str) -> None:
    """Allow polling again right away (after the password or token was fixed)."""
    with store.session() as session:
        state = folder_state(session, account, ACCOUNT_ROW)
        state.disabled_reason, state.failures = None, 0


def backoff(failures: int, poll: PollConfig) -> timedelta:
    """Wait after ``failures`` failed polls in a row: the interval, doubling, capped."""
    if failures <= 0:
        return timedelta(0)
    return timedelta(minutes=min(poll.interval_minutes * 2 ** min(failures - 1, 30), poll.max_backoff_minutes))


def next_poll_at(store: Store, account: str, poll: PollConfig) -> datetime | None:
    """When the scheduler may poll again after failures (None: whenever it likes)."""
    with store.session() as session:
        state = folder_state(session, account, ACCOUNT_ROW)
        if not state.failures or state.last_poll_at is None:
            return None
        return _aware(state.last_poll_at) + backoff(state.failures, poll)
