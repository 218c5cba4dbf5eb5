"""Access tokens for XOAUTH2/OAUTHBEARER logins.

Three sources: a fixed token from the config (tests, non-Microsoft servers), and MSAL for
Microsoft 365: app-only client credentials, or the delegated flow that lives on a refresh
token. MSAL serves a cached token while it is valid and refreshes it a few minutes before
it expires; the cache (with the rotated refresh token) is kept in ``sync_state.token_cache``
or in ``oauth.token_cache_file`` so it survives restarts. Tokens never reach the logs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Protocol

from vng_ingest.config import ImapConfig, OAuthConfig

log = logging.getLogger(__name__)


class AuthError(Exception):
    """Getting a token failed; the message is plain words without secrets.

    ``temporary``: the sign-in service is down for a while (try later), not a wrong secret.
    """

    def __init__(self, text: str, temporary: bool = False):
        super().__init__(text)
        self.temporary = temporary


#: OAuth 2 error codes (RFC 6749 §5.2, §4.1.2.1) that mean "try again later".
TEMPORARY_ERRORS = {"temporarily_unavailable", "server_error"}


class TokenProvider(Protocol):
    def token(self) -> str: ...


class FixedToken:
    """A token read from the environment or a file on every login (so a rotated file is picked up)."""

    def __init__(self, oauth: OAuthConfig):
        self._secret = oauth.token

    def token(self) -> str:
        value = self._secret.read()
        if not value:
            raise AuthError("no OAuth token configured (oauth.token env or file is empty or missing)")
        return value


class CacheStore(Protocol):
    """Where MSAL's serialized cache lives between runs."""

    def load(self) -> str | None: ...
    def save(self, text: str) -> None: ...


class FileCache:
    def __init__(self, path: Path):
        self.path = path

    def load(self) -> str | None:
        return self.path.read_text(encoding="utf-8") if self.path.exists() else None

    def save(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(self.path)


class CallbackCache:
    """A cache kept elsewhere (the ``sync_state.token_cache`` column) behind two callables."""

    def __init__(self, load: Callable[[], str | None], save: Callable[[str], None]):
        self.load, self.save = load, save


class MsalToken:
    """Microsoft 365 tokens through MSAL, with a persisted, rotating cache."""

    def __init__(self, oauth: OAuthConfig, cache: CacheStore):
        import msal
        self.oauth = oauth
        self.cache_store = cache
        self.cache = msal.SerializableTokenCache()
        saved = cache.load()
        if saved:
            self.cache.deserialize(saved)
        if not oauth.client_id:
            raise AuthError("oauth.client_id is missing")
        authority = oauth.authority or (
            f"https://login.microsoftonline.com/{oauth.tenant_id}" if oauth.tenant_id else None)
        if not authority:
            raise AuthError("oauth.tenant_id (or oauth.authority) is missing")
        secret = oauth.client_secret.read()
        if oauth.flow == "client_credentials":
            if not secret:
                raise AuthError("oauth.client_secret is not set (env or file)")
            self.app = msal.ConfidentialClientApplication(
                oauth.client_id, authority=authority, client_credential=secret, token_cache=self.cache)
        elif secret:
            self.app = msal.ConfidentialClientApplication(
                oauth.client_id, authority=authority, client_credential=secret, token_cache=self.cache)
        else:
            self.app = msal.PublicClientApplication(oauth.client_id, authority=authority,
                                                    token_cache=self.cache)

    def token(self) -> str:
        try:
            result = self._acquire()
        finally:
            if self.cache.has_state_changed:
                self.cache_store.save(self.cache.serialize())
        if not result or "access_token" not in result:
            error = (result or {}).get("error") or "no token"
            description = ((result or {}).get("error_description") or "").splitlines()[0:1]
            raise AuthError(f"Microsoft sign-in refused the token request ({error}"
                            + (f": {description[0][:200]}" if description else "") + ")",
                            temporary=error in TEMPORARY_ERRORS)
        return result["access_token"]

    def _acquire(self) -> dict | None:
        scopes = list(self.oauth.scopes)
        if self.oauth.flow == "client_credentials":
            # Served from the cache until shortly before expiry, then renewed.
            return self.app.acquire_token_for_client(scopes=scopes)
        accounts = self.app.get_accounts()
        if accounts:
            result = self.app.acquire_token_silent(scopes, account=accounts[0])
            if result:
                return result
        # First run: the refresh token an administrator obtained once (oauth.token).
        refresh = self.oauth.token.read()
        if not refresh:
            raise AuthError("no refresh token in the token cache and oauth.token is not set; "
                            "sign in once and put the refresh token in oauth.token")
        return self.app.acquire_token_by_refresh_token(refresh, scopes=scopes)


def token_provider(imap: ImapConfig, column_cache: CacheStore) -> TokenProvider:
    """The token source the config asks for; ``column_cache`` is used unless a cache file is set."""
    oauth = imap.oauth
    if oauth.client_id is None and (oauth.token.env or oauth.token.file):
        return FixedToken(oauth)
    cache = FileCache(oauth.token_cache_file) if oauth.token_cache_file else column_cache
    return MsalToken(oauth, cache)
