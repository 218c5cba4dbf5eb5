"""Session cookie, CSRF token, session secret and security headers.

The session is a signed cookie holding the user name and a per-session CSRF
token; the user's ``active`` flag is checked on every request, so disabling an
account takes effect at once.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from vng_ingest.config import Config

COOKIE = "vng_review"
MAX_AGE = 12 * 3600
SECRET_FILE = "review-session-secret"

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def secret_file(config: Config) -> Path:
    """Next to the SQLite database; for a server database, in the data folder beside the reports."""
    url = config.database.url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url[len("sqlite:///"):]).parent / SECRET_FILE
    return config.report.folder.parent / SECRET_FILE


def session_secret(config: Config) -> str:
    """The configured secret, else one kept in a 0600 file (made on first use)."""
    configured = config.review.session_secret.read()
    if configured:
        return configured
    path = secret_file(config)
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value


@dataclass
class SessionData:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    user: str | None = None
    changed: bool = False


class Sessions:
    def __init__(self, secret: str):
        self._serializer = URLSafeTimedSerializer(secret, salt="vng-review-session")

    def load(self, request: Request) -> SessionData:
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data = self._serializer.loads(raw, max_age=MAX_AGE)
                return SessionData(csrf=data["c"], user=data.get("u"))
            except (BadSignature, KeyError, TypeError):
                pass
        return SessionData(changed=True)

    def save(self, request: Request, response: Response, data: SessionData) -> None:
        value = self._serializer.dumps({"c": data.csrf, "u": data.user})
        response.set_cookie(COOKIE, value, max_age=MAX_AGE, path="/", httponly=True, samesite="lax",
                            secure=is_tls(request))


def is_tls(request: Request) -> bool:
    """Served over TLS (uvicorn sets the scheme from its TLS or a trusted proxy's header)."""
    return request.url.scheme == "https"


def csrf_ok(data: SessionData, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(data.csrf.encode(), str(submitted).encode())
