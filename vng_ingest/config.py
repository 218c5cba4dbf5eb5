"""Loading and validating ``config.yaml``.

Every mistake stops the program with one line that names the key and the file
(exit status 2). Secrets never live in the file: the config names an
environment variable or a file that holds them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vng_ingest.errors import ConfigError, safe_url

__all__ = ["Config", "ConfigError", "load_config", "SAMPLE_MAILBOX"]

PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_MAILBOX = PACKAGE_DIR / "samples" / "mailbox"


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

    @field_validator("url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        """A URL SQLAlchemy can parse, of a database kind it has a driver for."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ValueError("not a database URL (e.g. sqlite:///data/vng-ingest.sqlite)") from None
        try:
            parsed.get_dialect()
        except NoSuchModuleError:
            raise ValueError(f"unknown database kind '{parsed.drivername}' "
                             f"(use sqlite:///FILE or postgresql+psycopg://USER@HOST/NAME)") from None
        return url


class PollConfig(Strict):
    interval_minutes: float = Field(default=5, gt=0)
    max_backoff_minutes: float = Field(default=60, gt=0)


class ReviewConfig(Strict):
    #: An offer is accepted without review when P(all key fields right) reaches this.
    accept_threshold: float = Field(default=0.8, ge=0, le=1)
    #: A field whose P(right) is below this is marked uncertain for the reviewer (screen, workbook).
    field_threshold: float = Field(default=0.8, ge=0, le=1)
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

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone (e.g. Europe/Amsterdam)") from None
        return name

    @field_validator("day_of_week")
    @classmethod
    def _scheduler_accepts(cls, day_of_week: str) -> str:
        """The days as the scheduler's cron trigger reads them: 'mon', 'mon-fri', 'mon,thu', '*'."""
        from apscheduler.triggers.cron import CronTrigger
        try:
            CronTrigger(day_of_week=day_of_week)
        except ValueError:
            raise ValueError("not a day the scheduler knows (mon, tue, wed, thu, fri, sat, sun, "
                             "a range like mon-fri or a list like mon,thu)") from None
        return day_of_week


class ReportConfig(Strict):
    folder: Path = Path("data/reports")
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    recipients: list[Recipient] = Field(default_factory=list)
    smtp: SmtpConfig | None = None


class RetentionConfig(Strict):
    #: Contact details of offers older than this are erased (AVG/GDPR); null keeps them.
    personal_data_days: int | None = Field(default=365, ge=1)


class ReadingConfig(Strict):
    """Budgets for reading one message (parse + extract, in a child process that is stopped)."""
    message_seconds: float = Field(30.0, gt=0, le=3600)
    message_memory_mb: int = Field(1024, ge=128, le=65536)


class Config(Strict):
    source: SourceConfig = Field(default_factory=SourceConfig)
    reading: ReadingConfig = Field(default_factory=ReadingConfig)
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


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """The line (1-based) of the deepest node the path of keys reaches in the YAML document."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                         None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _describe(error: dict, path: Path, document: yaml.Node | None) -> str:
    key = _key(error["loc"]) or "(top level)"
    line = _line_of(document, error["loc"])
    where = f"{path}" + (f", line {line}" if line else "")
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{where}: unknown key '{key}'"
    if kind == "missing":
        return f"{where}: missing value for '{key}'"
    message = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    shown = safe_url(got) if key == "database.url" and isinstance(got, str) else repr(got)
    return f"{where}: '{key}': {message} (got {shown})"


def _duplicate_key(node: yaml.Node, parents: tuple = ()) -> str | None:
    """'key' at line N appearing a second time in the same mapping (YAML itself keeps the last silently)."""
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            if found := _duplicate_key(item, parents + (index,)):
                return found
    if not isinstance(node, yaml.MappingNode):
        return None
    first_line: dict[str, int] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        if key.value in first_line:
            name = _key(parents + (key.value,))
            return f"line {line}: key '{name}' appears twice (first at line {first_line[key.value]})"
        first_line[key.value] = line
        if found := _duplicate_key(value, parents + (key.value,)):
            return found
    return None


def _read_text(path: Path) -> str:
    """The config file's text; anything but a readable UTF-8 file is a ConfigError naming it."""
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a config file")
    if not path.is_file():
        raise ConfigError(f"{path}: not a regular file")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ConfigError(f"{path}, line {line}: not UTF-8 text; save the file as UTF-8") from None


def _parse_yaml(text: str, path: Path) -> tuple[object, yaml.Node | None]:
    """The data and its node tree (for line numbers); a YAML mistake names its line."""
    loader = yaml.SafeLoader(text)
    try:
        document = loader.get_single_node()
        if document is not None and (duplicate := _duplicate_key(document)):
            raise ConfigError(f"{path}, {duplicate}")
        return (loader.construct_document(document) if document is not None else None), document
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None)
        raise ConfigError(f"{path}{where}: not valid YAML" + (f" ({problem})" if problem else "")) from None
    finally:
        loader.dispose()


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the config; without a file, the embedded default (sample mailbox, SQLite).

    Only the absence of the default ./config.yaml means the default; a file that is there but
    empty, unreadable or wrong is a ConfigError naming the file.
    """
    if path is None:
        path = os.environ.get("VNG_INGEST_CONFIG") or "config.yaml"
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        if str(path) != "config.yaml":
            raise ConfigError(f"{path}: config file not found")
        return Config().resolve_paths(Path.cwd())
    data, document = _parse_yaml(_read_text(path), path)
    if data is None:
        raise ConfigError(f"{path}: the config file is empty; fill it in, or remove it to use the "
                          f"bundled sample mailbox")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error.errors()[0], path, document)) from None
    return config.resolve_paths(path.resolve().parent)
