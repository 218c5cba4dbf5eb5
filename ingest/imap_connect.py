"""Opening an authenticated IMAP connection, and saying in plain words what went wrong.

Certificates are verified unless the config explicitly turns that off; ``ca_file`` adds a
private CA (e.g. a test server's self-signed one).

A refused login is one of two things, told apart by the RFC 5530 response code: a wrong
secret or an account problem (``login``: AUTHENTICATIONFAILED, AUTHORIZATIONFAILED,
EXPIRED, ...; also a refusal without a code) or a sign-in service that is down for a
while (``outage``: UNAVAILABLE, SERVERBUG, INUSE, LIMIT, or a lost connection).
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from sqlalchemy.exc import SQLAlchemyError

from ingest.imap_auth import AuthError, TokenProvider
from vng_ingest.config import ImapConfig
from vng_ingest.tls import tls_context as shared_tls_context


#: RFC 5530 codes that say "try again later", not "your secret is wrong".
TEMPORARY_CODES = {"UNAVAILABLE", "SERVERBUG", "INUSE", "LIMIT"}


class ImapProblem(Exception):
    """A failed poll step; the text is for people. ``kind`` is its real cause: login (wrong
    secret), outage (sign-in service temporarily down), tls, folder, network, server (a
    command refused), database (the store refused a write) or internal (a bug)."""

    def __init__(self, kind: str, text: str):
        super().__init__(f"{kind}: {text}")
        self.kind = kind

    @property
    def is_auth(self) -> bool:
        return self.kind == "login"


def tls_context(imap: ImapConfig) -> ssl.SSLContext:
    return shared_tls_context(imap.ca_file, imap.verify_certificate)


def connect(imap: ImapConfig, tokens: TokenProvider | None) -> IMAPClient:
    """A logged-in client, or ImapProblem(kind=tls|network|login)."""
    where = f"{imap.host}:{imap.port}"
    try:
        client = IMAPClient(imap.host, port=imap.port, ssl=imap.security == "ssl",
                            ssl_context=tls_context(imap) if imap.security == "ssl" else None,
                            timeout=imap.timeout_seconds)
        if imap.security == "starttls":
            client.starttls(tls_context(imap))
    except ssl.SSLCertVerificationError as error:
        raise ImapProblem("tls", f"the certificate of {where} could not be verified "
                                 f"({error.verify_message})") from None
    except ssl.SSLError as error:
        raise ImapProblem("tls", f"secure connection to {where} failed ({error.reason or error})") from None
    except (IMAPClientError, imaplib.IMAP4.error) as error:
        raise ImapProblem("tls", f"{where} does not offer STARTTLS ({_short(error)})") from None
    except (OSError, socket.timeout) as error:
        raise ImapProblem("network", f"could not connect to {where} ({_os_reason(error)})") from None
    client.normalise_times = False
    try:
        login(client, imap, tokens)
    except BaseException:
        close(client)
        raise
    return client


def login(client: IMAPClient, imap: ImapConfig, tokens: TokenProvider | None) -> None:
    try:
        if imap.auth == "password":
            password = imap.password.read()
            if not password:
                raise ImapProblem("login", "no password configured (password env or file is empty or missing)")
            client.login(imap.username, password)
        else:
            assert tokens is not None
            token = tokens.token()
            if imap.auth == "xoauth2":
                client.oauth2_login(imap.username, token, mech="XOAUTH2")
            else:
                client.oauthbearer_login(imap.username, token)
    except AuthError as error:
        raise ImapProblem("outage" if error.temporary else "login", str(error)) from None
    except (LoginError, IMAPClientError, imaplib.IMAP4.error) as error:
        if isinstance(error, (IMAPClientAbortError, imaplib.IMAP4.abort)):
            raise ImapProblem("network", f"connection lost during login ({_short(error)})") from None
        raise refused_login(_short(error)) from None
    except (OSError, socket.timeout) as error:
        raise ImapProblem("network", f"connection lost during login ({_os_reason(error)})") from None


def response_code(text: str) -> str | None:
    """The RFC 5530 response code of a server answer (``[UNAVAILABLE] ...`` → UNAVAILABLE)."""
    found = re.search(r"\[([A-Z][A-Z0-9-]*)", text)
    return found.group(1) if found else None


def refused_login(answer: str) -> ImapProblem:
    """A refused login as a wrong secret (``login``) or a temporary outage (``outage``)."""
    if response_code(answer) in TEMPORARY_CODES:
        return ImapProblem("outage", f"the sign-in service of the server is temporarily unavailable ({answer})")
    return ImapProblem("login", f"the server refused the login for this account ({answer})")


def close(client: IMAPClient) -> None:
    """Log out politely; a dead connection is simply dropped."""
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass


def as_problem(error: BaseException) -> ImapProblem:
    """An error raised while working in a folder, named by its real cause."""
    if isinstance(error, ImapProblem):
        return error
    if isinstance(error, SQLAlchemyError):
        return ImapProblem("database", f"the store refused a write ({db_reason(error)})")
    if isinstance(error, (OSError, socket.timeout)):
        return ImapProblem("network", f"connection lost ({_os_reason(error)})")
    if isinstance(error, (IMAPClientAbortError, imaplib.IMAP4.abort)):
        return ImapProblem("network", f"connection lost ({_short(error)})")
    if isinstance(error, (IMAPClientError, imaplib.IMAP4.error)):
        return ImapProblem("server", f"the server refused a command ({_short(error)})")
    return ImapProblem("internal", f"unexpected error ({error.__class__.__name__})")


def db_reason(error: SQLAlchemyError) -> str:
    """The database's own first line (no SQL, no parameters: those can hold mail data)."""
    original = getattr(error, "orig", None)
    return _short(original) if original is not None else error.__class__.__name__


def _os_reason(error: BaseException) -> str:
    if isinstance(error, socket.timeout) or isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "host name not found"
    return getattr(error, "strerror", None) or error.__class__.__name__


def _short(error: BaseException) -> str:
    text = str(error)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text.splitlines()[0][:200] if text else error.__class__.__name__
