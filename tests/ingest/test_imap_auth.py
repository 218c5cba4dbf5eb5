"""Logins: TLS/STARTTLS with certificate verification, XOAUTH2/OAUTHBEARER, refused logins."""

from __future__ import annotations

from conftest import append, assert_stored_once, generated, imap_config
from sqlalchemy import select

from ingest.imap import ACCOUNT_ROW, enable_account, poll_account
from store.schema import SyncState
from vng_ingest.service import status


def account_row(store) -> SyncState:
    with store.session() as session:
        return session.scalars(select(SyncState).where(SyncState.folder == ACCOUNT_ROW)).one()


def test_starttls_and_implicit_tls_verify_against_the_private_ca(tls_dovecot, store, monkeypatch):
    server, ca_file = tls_dovecot
    messages = generated(3)
    append(server, messages)
    starttls = imap_config(server, monkeypatch, security="starttls", ca_file=str(ca_file))
    assert poll_account(starttls, store).error is None
    implicit = imap_config(server, monkeypatch, port=server.tls_port, security="ssl", ca_file=str(ca_file))
    more = generated(2, tag="tls")
    append(server, more)
    outcome = poll_account(implicit, store)
    assert outcome.error is None and len(outcome.ingested.new) == 2
    assert_stored_once(store, messages + more)


def test_unverifiable_certificate_is_a_tls_error_and_nothing_is_read(tls_dovecot, store, monkeypatch):
    server, _ = tls_dovecot
    append(server, generated(2))
    config = imap_config(server, monkeypatch, port=server.tls_port, security="ssl")   # no ca_file
    outcome = poll_account(config, store)
    assert outcome.error and outcome.error.startswith("tls:") and "certificate" in outcome.error
    assert outcome.ingested.new == []
    assert account_row(store).disabled_reason is None        # not a login problem: retried later
    assert "error: tls:" in status(config, store)


def test_xoauth2_and_oauthbearer_against_dovecot_oauth2_passdb(oauth_dovecot, store, monkeypatch):
    server, endpoint = oauth_dovecot
    monkeypatch.setenv("VNG_TEST_TOKEN", "good-token")
    messages = generated(3)
    append(server, messages)
    xoauth2 = imap_config(server, monkeypatch, auth="xoauth2", oauth={"token": {"env": "VNG_TEST_TOKEN"}})
    assert poll_account(xoauth2, store).error is None
    assert endpoint.requests >= 1
    more = generated(2, tag="bearer")
    append(server, more)
    bearer = imap_config(server, monkeypatch, auth="oauthbearer", oauth={"token": {"env": "VNG_TEST_TOKEN"}})
    outcome = poll_account(bearer, store)
    assert outcome.error is None and len(outcome.ingested.new) == 2
    assert_stored_once(store, messages + more)


def test_refused_token_stops_polling_the_account_without_hammering(oauth_dovecot, store, monkeypatch):
    server, endpoint = oauth_dovecot
    monkeypatch.setenv("VNG_TEST_TOKEN", "expired-token")
    messages = generated(2)
    append(server, messages)
    config = imap_config(server, monkeypatch, auth="xoauth2", oauth={"token": {"env": "VNG_TEST_TOKEN"}})
    refused = poll_account(config, store)
    assert refused.error and refused.error.startswith("login:")
    row = account_row(store)
    assert row.disabled_reason and row.failures == 1
    asked = endpoint.requests
    again = poll_account(config, store)
    assert again.error and again.error.startswith("polling stopped after a failed login")
    assert endpoint.requests == asked                    # the server was not contacted again
    assert "error: login:" in status(config, store)
    monkeypatch.setenv("VNG_TEST_TOKEN", "good-token")    # the administrator fixes the token
    enable_account(store, "imap:info@vng.test@127.0.0.1")
    fixed = poll_account(config, store)
    assert fixed.error is None and len(fixed.ingested.new) == 2
    assert account_row(store).disabled_reason is None
    assert_stored_once(store, messages)


def test_wrong_password_is_a_login_error(dovecot, store, monkeypatch):
    config = imap_config(dovecot, monkeypatch)
    monkeypatch.setenv("VNG_TEST_IMAP_PASSWORD", "fout")
    outcome = poll_account(config, store)
    assert outcome.error.startswith("login: the server refused the login")
    assert "fout" not in outcome.error                     # no secret in the recorded error
    assert account_row(store).disabled_reason


def test_missing_token_is_a_login_error(dovecot, store, monkeypatch):
    config = imap_config(dovecot, monkeypatch, auth="xoauth2", oauth={"token": {"env": "VNG_TEST_NO_TOKEN"}})
    monkeypatch.delenv("VNG_TEST_NO_TOKEN", raising=False)
    outcome = poll_account(config, store)
    assert outcome.error.startswith("login: no OAuth token configured")
