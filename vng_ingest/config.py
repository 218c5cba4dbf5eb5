"""Loading and validating ``config.yaml``.

Every mistake stops the program with one line that names the key and the file
(exit status 2). Secrets never live in the file: the config names an
environment variable or a file that holds them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_MAILBOX = PACKAGE_DIR / "samples" / "mailbox"


class ConfigError(Exception):
    """A config problem, already phrased as the one line the user sees."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Secret(Strict):
    """Where a secret lives: an environment variable or a file, never the config itself."""

    env: str | None = None
    file: Path | None = None

    def read(self) -> str | None:
        if self.env and os.environ.get(self.env):
            return os.environ[self.env]
        if self.file and self.file.exists():
            return self.file.read_text(encoding="utf-8").strip()
        return None


class OAuthConfig(Strict):
    flow: Literal["client_credentials", "refresh_token"] = "client_credentials"
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: Secret = Field(default_factory=Secret)
    authority: str | None = None
    scopes: list[str] = Field(default_factory=lambda: ["https://outlook.office365.com/.default"])
    token_cache_file: Path | None = None
    #: For tests and non-Microsoft servers: a fixed token source.
    token: Secret = Field(default_factory=Secret)


class ImapConfig(Strict):
    host: str
    port: int = 993
    security: Literal["ssl", "starttls", "none"] = "ssl"
    verify_certificate: bool = True
    ca_file: Path | None = None
    username: str
    auth: Literal["password", "xoauth2", "oauthbearer"] = "password"
    password: Secret = Field(default_factory=Secret)
    oauth: OAuthConfig = Field(default_factory=OAuthConfig)
    folders: list[str] = Field(default_factory=lambda: ["INBOX"])
    batch_size: int = Field(default=100, ge=1, le=5000)
    #: Bytes fetched per batch at most (a single bigger message is fetched alone).
    batch_bytes: int = Field(default=50_000_000, ge=1)
    after_action: Literal["none", "flag", "seen", "move"] = "none"
    processed_folder: str = "Verwerkt"
    error_folder: str = "Fout"
    idle: bool = False
    timeout_seconds: float = Field(default=60, gt=0)


class SourceConfig(Strict):
    """Where mail comes from: an IMAP account, or a local folder / Maildir / mbox."""

    kind: Literal["folder", "maildir", "mbox", "imap"] = "folder"
    path: Path | None = None
    imap: ImapConfig | None = None

    @model_validator(mode="after")
    def _needs_its_settings(self) -> "SourceConfig":
        if self.kind == "imap" and self.imap is None:
            raise ValueError("kind 'imap' needs an 'imap' section")
        return self

    @property
    def name(self) -> str:
        if self.kind == "imap" and self.imap:
            return f"imap:{self.imap.username}@{self.imap.host}"
        return f"{self.kind}:{self.path or SAMPLE_MAILBOX}"


class DatabaseConfig(Strict):
    url: str = "sqlite:///data/vng-ingest.sqlite"


class PollConfig(Strict):
    interval_minutes: float = Field(default=5, gt=0)
    max_backoff_minutes: float = Field(default=60, gt=0)


class ReviewConfig(Strict):
    #: An offer whose key fields all reach this confidence is accepted without review.
    accept_threshold: float = Field(default=0.8, ge=0, le=1)
    host: str = "127.0.0.1"
    port: int = 8080
    session_secret: Secret = Field(default_factory=Secret)
    lock_minutes: int = Field(default=15, gt=0)


class Recipient(Strict):
    email: str
    include_contacts: bool = False


class SmtpConfig(Strict):
    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: Secret = Field(default_factory=Secret)
    sender: str = "vng-ingest@localhost"
    #: Check the server's certificate (STARTTLS); ca_file adds a CA to trust, e.g. an internal one.
    verify_certificate: bool = True
    ca_file: Path | None = None
    timeout_seconds: float = Field(default=60, gt=0)


class ScheduleConfig(Strict):
    day_of_week: str = "mon"
    hour: int = Field(default=8, ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)
    timezone: str = "Europe/Amsterdam"


class ReportConfig(Strict):
    folder: Path = Path("data/reports")
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    recipients: list[Recipient] = Field(default_factory=list)
    smtp: SmtpConfig | None = None


class RetentionConfig(Strict):
    #: Contact details of offers older than this are erased (AVG/GDPR); null keeps them.
    personal_data_days: int | None = Field(default=365, ge=1)


class Config(Strict):
    source: SourceConfig = Field(default_factory=SourceConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    poll: PollConfig = Field(default_factory=PollConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    def _secrets(self) -> list[Secret]:
        found = [self.review.session_secret]
        if self.source.imap:
            found += [self.source.imap.password, self.source.imap.oauth.client_secret, self.source.imap.oauth.token]
        if self.report.smtp:
            found.append(self.report.smtp.password)
        return found

    def resolve_paths(self, base: Path) -> "Config":
        """Make relative paths relative to the config file's folder, not the working directory."""
        if self.source.kind != "imap":
            path = self.source.path or SAMPLE_MAILBOX
            self.source.path = path if path.is_absolute() else base / path
        if not self.report.folder.is_absolute():
            self.report.folder = base / self.report.folder
        for section in (self.source.imap, self.report.smtp):
            if section is not None and section.ca_file is not None and not section.ca_file.is_absolute():
                section.ca_file = base / section.ca_file
        for secret in self._secrets():
            if secret.file is not None and not secret.file.is_absolute():
                secret.file = base / secret.file
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            self.database.url = prefix + str(base / url[len(prefix):])
        return self


def _key(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-"))


def _describe(error: dict, path: Path) -> str:
    key = _key(error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{path}: unknown key '{key}'"
    if kind == "missing":
        return f"{path}: missing value for '{key}'"
    return f"{path}: '{key}': {error['msg']} (got {error.get('input')!r})"


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the config; without a file, the embedded default (sample mailbox, SQLite)."""
    if path is None:
        path = os.environ.get("VNG_INGEST_CONFIG") or "config.yaml"
    path = Path(path)
    if not path.exists():
        if str(path) != "config.yaml":
            raise ConfigError(f"{path}: config file not found")
        return Config().resolve_paths(Path.cwd())
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error.errors()[0], path)) from None
    return config.resolve_paths(path.resolve().parent)
