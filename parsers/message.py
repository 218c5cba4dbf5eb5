"""The parsed form of one e-mail: the text a KCC employee would read, noise set apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


#: Problem codes (stored and counted downstream; keep exactly these).
UNREADABLE = "unreadable"                       # the message's text could not be read
TRUNCATED = "truncated"                         # a budget cut text
ATTACHMENT_REFUSED = "attachment_refused"       # a budget or safety refusal
ATTACHMENT_UNREADABLE = "attachment_unreadable" # an attachment that could not be read


@dataclass(frozen=True)
class Problem:
    """Something a KCC employee should know about a message: a code and a plain Dutch sentence
    (never personal data)."""

    code: str
    text: str


@dataclass
class Attachment:
    """An attachment turned into text and tables (or the reason it was refused)."""

    filename: str | None
    content_type: str
    size: int
    text: str = ""
    #: One list per sheet/table; each row a dict keyed by the header cells.
    tables: list[list[dict[str, str]]] = field(default_factory=list)
    error: str | None = None         # refusal or parse error, in plain words
    problem: Problem | None = None   # the same for the KCC, in Dutch (copied to the message)


@dataclass
class ParsedMessage:
    """One message as text: what the sender wrote, their signature, and the quoted history."""

    message_id: str | None = None
    subject: str = ""
    from_name: str | None = None
    from_addr: str | None = None     # lower-case
    to: list[str] = field(default_factory=list)
    date: datetime | None = None     # timezone-aware, from the Date header
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)   # lower-case name → decoded value
    body: str = ""                   # the whole readable text (HTML turned into text)
    new_text: str = ""               # what the sender wrote now, without quote or signature
    signature: str = ""              # sign-off, signature and disclaimer (kept: names the contact)
    quoted: str = ""                 # quoted reply history (e.g. the VNG letter): never extracted from
    forwarded: str = ""              # forwarded message(s) the sender passes on: content, not history
    attachments: list[Attachment] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # problems met while parsing, in plain words
    problems: list[Problem] = field(default_factory=list)   # the same as data, for the KCC

    def add_problem(self, code: str, text: str) -> None:
        """Record a problem once (the same cut in two parts is one problem)."""
        problem = Problem(code, text)
        if problem not in self.problems:
            self.problems.append(problem)
