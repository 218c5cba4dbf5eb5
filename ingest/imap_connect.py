"""Opening an authenticated IMAP connection, and saying in plain words what went wrong.

Certificates are verified unless the config explicitly turns that off; ``ca_file`` adds a
private CA (e.g. a test server's self-signed one).
"""

from __future__ import annotations

import imaplib
import socket
import ssl

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from ingest.imap_auth import AuthError, TokenProvider
from vng_ingest.config import ImapConfig
from vng_ingest.tls import tls_context as shared_tls_context


class ImapProblem(Exception):
    """A failed poll step; ``kind`` is login, tls, folder or network; the text is for people."""

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
        raise ImapProblem("login", str(error)) from None
    except (LoginError, IMAPClientError, imaplib.IMAP4.error) as error:
        if isinstance(error, IMAPClientAbortError):
            raise ImapProblem("network", f"connection lost during login ({_short(error)})") from None
        raise ImapProblem("login", f"the server refused the login for this account ({_short(error)})") from None
    except (OSError, socket.timeout) as error:
        raise ImapProblem("network", f"connection lost during login ({_os_reason(error)})") from None


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
    """A connection-level error raised while working in a folder, as a network problem."""
    if isinstance(error, ImapProblem):
        return error
    if isinstance(error, (OSError, socket.timeout)):
        return ImapProblem("network", f"connection lost ({_os_reason(error)})")
    return ImapProblem("network", f"connection lost ({_short(error)})")


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
