"""Raw e-mail bytes → ParsedMessage, without ever raising.

The mailbox receives whatever municipal mail systems, ticket tools and phones produce:
windows-1252 declared as iso-8859-1, 8-bit headers, broken encoded-words, HTML-only
Outlook mail, format=flowed Thunderbird mail, forwarded .eml attachments. A crash
would stop the weekly report for one bad message, so every step is guarded: problems
are written to `errors` in plain words and as much text as possible is returned.
The stdlib `email` package does the MIME work (policy.default, compat32 as fallback);
headers and charsets are decoded here because both packages give up too easily on
the broken cases; mail-parser is the last resort when no text part is found.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import email
import email.errors
import email.utils
import quopri
import re
from datetime import timezone
from email import policy
from email.message import Message

from parsers import attachments as attachment_readers
from parsers import budgets
from parsers.budgets import thousands
from parsers.html_text import html_to_text_with_quote
from parsers.message import (ATTACHMENT_REFUSED, TRUNCATED, UNREADABLE, Attachment,
                             ParsedMessage)
from parsers.quotes import split_reply

MAX_NESTING = 10            # message/rfc822 inside message/rfc822 ... deeper is not parsed
MAX_PARTS = 500             # MIME parts walked per message
TRIVIAL_PLAIN_CHARS = 20    # a text/plain alternative shorter than this defers to the HTML

_LATIN1_NAMES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "iso_8859-1", "8859-1"}
_ASCII_NAMES = {"us-ascii", "ascii", "ansi_x3.4-1968", "646", ""}
#: The head of an RFC 2047 encoded-word ('=?utf-8?Q?'), found at every position (lookahead);
#: its payload runs to the first '?=' after it, found by bisecting the '?=' positions, so an
#: unterminated word costs nothing (a lazy '(.*?)\?=' rescanned the rest of the header per word).
_ENCODED_HEAD = re.compile(r"(?==\?([^?\s]{1,100})\?([bBqQ])\?)")
_WORD_GAP = re.compile(r"(\?=)\s+(?==\?[^?\s]{1,100}\?[bBqQ]\?)")


# --- entry point ----------------------------------------------------------------------

def parse_message(raw: bytes, _depth: int = 0) -> ParsedMessage:
    """Parse one message. Never raises; problems are listed in `errors`."""
    result = ParsedMessage()
    try:
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        _parse_into(bytes(raw), result, _depth)
    except RecursionError:
        _fall_back(raw, result, "message is nested too deeply to parse; raw text used")
    except Exception as exc:  # noqa: BLE001 — the contract is: never raise
        _fall_back(raw, result, f"message could not be parsed ({type(exc).__name__}); raw text used")
    if _depth == 0:
        _check_readable(raw, result)
    return result


#: Share of a text's characters that may be replacement or control characters before it
#: counts as unreadable (random bytes, binary data in a text part, garbage base64).
MAX_JUNK_SHARE = 0.2


def _check_readable(raw, result: ParsedMessage) -> None:
    """Record an `unreadable` problem when the input is not a readable e-mail at all."""
    reason = _unreadable_reason(raw, result)
    if reason:
        result.add_problem(UNREADABLE, f"Dit bericht kon niet worden gelezen: {reason}.")


def _unreadable_reason(raw, result: ParsedMessage) -> str | None:
    if not raw or not bytes(raw).strip():
        return "het bestand is leeg"
    if not result.headers.keys() & _MAIL_HEADERS:
        return "het is geen e-mailbericht"
    if "header/body separator missing" in result.errors:
        return "kop en tekst van het bericht zijn niet van elkaar gescheiden"
    text = "\n".join([result.body, *(a.text for a in result.attachments)])
    if _is_junk(text):
        return "de tekst bestaat uit onleesbare tekens"
    if not text.strip() and not any(a.tables for a in result.attachments):
        if any(e.startswith("base64 part is not base64") for e in result.errors):
            return "de gecodeerde tekst (base64) is beschadigd"
        return "er is geen leesbare tekst in gevonden"
    return None


_MAIL_HEADERS = {"from", "to", "subject", "date", "message-id", "received", "mime-version",
                 "content-type", "return-path", "reply-to", "cc", "sender", "in-reply-to"}
_JUNK = re.compile(r"[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _is_junk(text: str) -> bool:
    sample = text[:20_000]
    return len(sample) >= 20 and len(_JUNK.findall(sample)) > MAX_JUNK_SHARE * len(sample)


def _fall_back(raw, result: ParsedMessage, why: str) -> None:
    result.errors.append(why)
    try:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        result.body = result.body or text
        result.new_text = result.new_text or text
    except Exception:  # noqa: BLE001
        pass


def _parse_into(raw: bytes, result: ParsedMessage, depth: int) -> None:
    msg = _message_from_bytes(raw, result)
    _read_headers(msg, result)
    body = _Body()
    _walk(msg, body, result, depth, counter=[0])
    text, quote_line = body.text(result)
    if not text.strip() and not body.parts and depth == 0:
        text = _mailparser_text(raw, result)
    result.body = text = _within_budget(text, result)
    parts = split_reply(text, result.subject, quote_line)
    result.new_text, result.signature, result.quoted = parts.new_text, parts.signature, parts.quoted
    result.forwarded = "\n\n".join(t for t in [parts.forwarded, *body.forwarded] if t.strip())


def _within_budget(text: str, result: ParsedMessage) -> str:
    """The body cut to the characters extraction reads (budgets.MAX_BODY_CHARS)."""
    limit = budgets.MAX_BODY_CHARS
    if len(text) <= limit:
        return text
    result.errors.append(f"body of {len(text)} characters cut to {limit}")
    result.add_problem(TRUNCATED, f"De tekst van dit bericht is ingekort: alleen de eerste "
                                  f"{thousands(limit)} tekens zijn gelezen.")
    return text[:limit]


def _message_from_bytes(raw: bytes, result: ParsedMessage) -> Message:
    """compat32: the modern policy re-parses every header on each access, which costs 60% of the
    time, and this module decodes the headers it needs itself."""
    msg = email.message_from_bytes(raw, policy=policy.compat32)
    if any(isinstance(d, email.errors.MissingHeaderBodySeparatorDefect) for d in msg.defects):
        result.errors.append("header/body separator missing")
    return msg


# --- headers ----------------------------------------------------------------------------

def _read_headers(msg: Message, result: ParsedMessage) -> None:
    for name, value in _raw_headers(msg):
        if isinstance(value, str) and len(value) > budgets.MAX_HEADER_CHARS:
            value = value[:budgets.MAX_HEADER_CHARS]
            result.errors.append(f"header {name[:40]!r} cut to {budgets.MAX_HEADER_CHARS} characters")
            result.add_problem(TRUNCATED, "Een kopregel van dit bericht (zoals het onderwerp) is "
                                          "te lang en is ingekort.")
        decoded = decode_header_value(value)
        key = name.lower()
        result.headers[key] = f"{result.headers[key]}\n{decoded}" if key in result.headers else decoded
    h = result.headers
    result.subject = h.get("subject", "").split("\n")[0].strip()
    result.from_name, result.from_addr = _first_address(h.get("from", ""))
    result.to = [a.lower() for _, a in _addresses(h.get("to", "")) if a]
    result.message_id = _strip_brackets(h.get("message-id", "")) or None
    result.in_reply_to = _strip_brackets(h.get("in-reply-to", "").split()[0]) \
        if h.get("in-reply-to", "").split() else None
    result.references = [_strip_brackets(r) for r in re.findall(r"<[^>]*>|\S+", h.get("references", ""))]
    result.date = _parse_date(h.get("date", ""), result)


def _raw_headers(msg: Message):
    try:
        return list(msg.raw_items())
    except Exception:  # noqa: BLE001
        return list(getattr(msg, "_headers", []))


def decode_header_value(value) -> str:
    """Unfold and decode a header: 8-bit bytes (utf-8 or windows-1252) and encoded-words."""
    text = _header_bytes_to_str(value)
    text = re.sub(r"\r?\n(?=[ \t])", "", text).replace("\r", "").replace("\n", " ")
    # whitespace between two adjacent encoded-words is not part of the text (RFC 2047)
    text = _WORD_GAP.sub(r"\1", text)
    return _decode_encoded_words(text).strip()


def _decode_encoded_words(text: str) -> str:
    """Replace each encoded-word, left to right, as re.sub(r'=\\?cs\\?E\\?(.*?)\\?=') would."""
    ends = [m.start() for m in re.finditer(r"\?=", text)]
    out, pos = [], 0
    for head in _ENCODED_HEAD.finditer(text):
        start = head.start()
        if start < pos:
            continue
        payload_start = start + len(head.group(1)) + 5          # '=?' cs '?' E '?'
        i = bisect.bisect_left(ends, payload_start)
        if i == len(ends):
            break                                              # no '?=' after this: none after later heads
        end = ends[i]
        out += [text[pos:start], _decode_encoded_word(text[start:end + 2], head.group(1),
                                                      head.group(2), text[payload_start:end])]
        pos = end + 2
    out.append(text[pos:])
    return "".join(out)


def _header_bytes_to_str(value) -> str:
    if not isinstance(value, str):
        value = str(value)
    try:
        data = value.encode("ascii", errors="surrogateescape")
    except UnicodeEncodeError:
        return value                      # already real unicode text
    return data.decode("ascii") if data.isascii() else _decode_undeclared(data)


def _decode_encoded_word(word: str, charset: str, encoding: str, payload: str) -> str:
    encoding = encoding.upper()
    charset = charset.split("*")[0]       # RFC 2231 language suffix: utf-8*nl
    try:
        if encoding == "B":
            data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=False)
        else:
            data = quopri.decodestring(payload.replace("_", " ").encode("latin-1"), header=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return word
    return decode_bytes(data, charset)[0]


def _first_address(value: str) -> tuple[str | None, str | None]:
    pairs = _addresses(value)
    if not pairs:
        return None, None
    name, addr = pairs[0]
    return (name.strip().strip('"') or None), (addr.strip().lower() or None)


def _addresses(value: str) -> list[tuple[str, str]]:
    try:
        return [(n, a) for n, a in email.utils.getaddresses([value]) if n or a]
    except Exception:  # noqa: BLE001
        found = re.findall(r"[\w.+-]+@[\w.-]+", value)
        return [("", a) for a in found]


def _strip_brackets(value: str) -> str:
    return value.strip().strip("<>").strip()


def _parse_date(value: str, result: ParsedMessage):
    if not value.strip():
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = _lenient_date(value)
        if parsed is None:
            result.errors.append("Date header not understood")
            return None
    if parsed.tzinfo is None:
        result.errors.append("Date header has no time zone; UTC assumed")
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _lenient_date(value: str):
    try:
        from dateutil import parser as date_parser

        return date_parser.parse(value, fuzzy=True)
    except Exception:  # noqa: BLE001
        return None


# --- charsets --------------------------------------------------------------------------

def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode with the declared charset, repaired where mail clients lie. (text, problem)."""
    name = (charset or "").strip().strip('"\'').lower()
    if name in _ASCII_NAMES:
        return _decode_undeclared(data), None
    if name in _LATIN1_NAMES and re.search(rb"[\x80-\x9f]", data):
        return data.decode("cp1252", errors="replace"), None
    try:
        return data.decode(name), None
    except LookupError:
        return _decode_undeclared(data), f"unknown charset {charset!r}; decoded as utf-8/windows-1252"
    except UnicodeDecodeError:
        return _decode_undeclared(data), f"text is not valid {charset}; decoded as utf-8/windows-1252"


def _decode_undeclared(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# --- MIME tree ---------------------------------------------------------------------------

class _Body:
    """Text segments of the body in order, plus forwarded .eml texts."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, str]] = []      # ("plain" | "html", text)
        self.forwarded: list[str] = []

    def add(self, kind: str, text: str) -> None:
        self.parts.append((kind, text))

    def text(self, result: ParsedMessage) -> tuple[str, int | None]:
        texts, quote_line = [], None
        for kind, text in self.parts:
            if kind == "html":
                cuts: list[str] = []
                try:
                    converted, line = html_to_text_with_quote(_html_within_budget(text, result), cuts)
                    for cut in cuts:
                        result.errors.append(cut)
                        result.add_problem(TRUNCATED, _CUT_TEXT)
                except Exception as exc:  # noqa: BLE001
                    result.errors.append(f"HTML part could not be converted ({exc}); tags stripped")
                    converted, line = re.sub(r"<[^>]+>", " ", text), None
                if line is not None and len(self.parts) == 1:
                    quote_line = line
                text = converted
            texts.append(text.strip("\n"))
        return "\n\n".join(t for t in texts if t.strip()), quote_line


_CUT_TEXT = "Van de HTML-tekst van dit bericht is niet alles gelezen: hij is te groot."


def _html_within_budget(html: str, result: ParsedMessage) -> str:
    limit = budgets.MAX_HTML_CHARS
    if len(html) <= limit:
        return html
    result.errors.append(f"HTML part of {len(html)} characters cut to {limit}")
    result.add_problem(TRUNCATED, _CUT_TEXT)
    cut = html.rfind("<", 0, limit)
    return html[:cut if cut > 0 else limit]


def _walk(part: Message, body: _Body, result: ParsedMessage, depth: int, counter: list[int]) -> None:
    counter[0] += 1
    if counter[0] > MAX_PARTS:
        if counter[0] == MAX_PARTS + 1:
            result.errors.append(f"more than {MAX_PARTS} MIME parts; the rest was skipped")
        return
    try:
        _walk_part(part, body, result, depth, counter)
    except RecursionError:
        raise
    except Exception as exc:  # noqa: BLE001
        result.errors.append(f"a MIME part could not be read ({type(exc).__name__})")


def _walk_part(part: Message, body: _Body, result: ParsedMessage, depth: int, counter) -> None:
    ctype = _content_type(part)
    if ctype == "multipart/alternative":
        _walk_alternative(part, body, result, depth, counter)
    elif part.is_multipart() and ctype != "message/rfc822":
        for child in _children(part, result):
            _walk(child, body, result, depth, counter)
    elif ctype == "message/rfc822" or ctype == "message/global":
        _read_forwarded_eml(part, body, result, depth)
    elif ctype in {"text/plain", "text/html", "text/enriched"} and not _is_attachment(part):
        text = _part_text(part, result)
        body.add("html" if ctype == "text/html" else "plain", text)
    else:
        _read_attachment(part, result)


def _walk_alternative(part: Message, body: _Body, result, depth, counter) -> None:
    """Prefer text/plain, unless it is empty or trivial next to the HTML."""
    options: list[_Body] = []
    for child in _children(part, result):
        sub = _Body()
        _walk(child, sub, result, depth, counter)
        body.forwarded.extend(sub.forwarded)
        if sub.parts:
            options.append(sub)
    plain = next((o for o in options if all(k == "plain" for k, _ in o.parts)), None)
    html = next((o for o in options if any(k == "html" for k, _ in o.parts)), None)
    chosen = plain
    if plain is None or (html is not None and (_is_trivial(plain) or _has_data_table(html))):
        chosen = html or (options[-1] if options else None)
    if chosen:
        body.parts.extend(chosen.parts)


#: Table tags in the order a data table has them: a row of three cells, then a row of two data
#: cells. Matched as a subsequence of the tags, in one pass (the regex this replaces,
#: '<tr.*?<td.*?<td.*? … ', backtracked ~n^5 on rows of unclosed cells).
_TABLE_TAG = re.compile(r"<(/tr>|tr\b|td\b|th\b)", re.IGNORECASE)
_DATA_TABLE_SHAPE = (("tr",), ("td", "th"), ("td", "th"), ("td", "th"), ("/tr>",), ("tr",), ("td",), ("td",))


def has_data_table(html: str) -> bool:
    """An HTML table of at least three columns and a data row (linear in the HTML)."""
    wanted = 0
    for tag in _TABLE_TAG.finditer(html):
        if tag.group(1).lower() in _DATA_TABLE_SHAPE[wanted]:
            wanted += 1
            if wanted == len(_DATA_TABLE_SHAPE):
                return True
    return False


def _has_data_table(option: _Body) -> bool:
    """The plain alternative of mail with a data table (Outlook's) puts every cell on its own
    line, so the HTML keeps rows readable."""
    return any(kind == "html" and has_data_table(text) for kind, text in option.parts)


def _is_trivial(option: _Body) -> bool:
    return sum(len(t.strip()) for _, t in option.parts) < TRIVIAL_PLAIN_CHARS


def _children(part: Message, result: ParsedMessage) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    result.errors.append(f"{_content_type(part)} part has no readable sub-parts (missing boundary?)")
    return []


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # noqa: BLE001
        return "text/plain"


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("content-disposition", "")).lower()
    return disposition.startswith("attachment") or bool(_filename(part))


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    if not name:
        raw = str(part.get("content-type", ""))
        match = re.search(r'name\s*=\s*"?([^";]+)', raw, re.I)
        name = match.group(1) if match else None
    return decode_header_value(name) if name else None


def _part_text(part: Message, result: ParsedMessage) -> str:
    data = _payload_bytes(part, result)
    charset = _charset(part)
    text, problem = decode_bytes(data, charset)
    if problem:
        result.errors.append(problem)
    params = {k.lower(): _param_text(v).lower() for k, v in _params(part)}
    if params.get("format") == "flowed":
        text = unflow(text, delsp=params.get("delsp") == "yes")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _params(part: Message):
    try:
        return part.get_params() or []
    except Exception:  # noqa: BLE001
        return []


def _param_text(value) -> str:
    """A parameter value as text; an RFC 2231 value (charset*=utf-8''utf-8) is a tuple."""
    try:
        return str(email.utils.collapse_rfc2231_value(value))
    except Exception:  # noqa: BLE001
        return str(value)


def _charset(part: Message) -> str | None:
    try:
        value = part.get_param("charset")  # raw string, also when the name is unknown
    except Exception:  # noqa: BLE001
        return None
    return None if value is None else _param_text(value)


def _payload_bytes(part: Message, result: ParsedMessage) -> bytes:
    """Transfer-decoded payload; bad base64 is decoded as far as it goes."""
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    try:
        raw = part.get_payload(decode=False)
    except TypeError:       # stdlib: 8-bit text under an RFC 2231 charset (charset*=utf-8''utf-8)
        raw = ""
    if isinstance(raw, list):
        return b""
    if cte == "base64" and raw:
        return _lenient_base64(raw, result)
    data = part.get_payload(decode=True)
    if data is None:
        data = str(raw).encode("utf-8", errors="surrogateescape")
    return data


def _lenient_base64(text: str, result: ParsedMessage) -> bytes:
    """Decode base64 up to the first padding, ignoring junk characters and a dangling char."""
    text = str(text)
    cleaned = re.sub(r"[^A-Za-z0-9+/=]", "", text).split("=")[0]
    if len(cleaned) * 2 < len(re.sub(r"\s", "", text)):
        result.errors.append("base64 part is not base64 (mostly other characters); decoded as far as possible")
    if len(cleaned) % 4 == 1:
        result.errors.append("base64 part is damaged (truncated); decoded as far as possible")
        cleaned = cleaned[:-1]
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))


def unflow(text: str, delsp: bool = False) -> str:
    """RFC 3676 format=flowed: join soft-broken lines (ending in a space) per quote depth."""
    out: list[str] = []
    current, current_depth = None, -1
    for raw_line in text.replace("\r\n", "\n").split("\n"):
        depth = len(raw_line) - len(raw_line.lstrip(">"))
        line = raw_line[depth:]
        if line.startswith(" "):
            line = line[1:]                                   # space-stuffing
        soft = line.endswith(" ") and line != "-- "
        piece = line[:-1] if soft and delsp else line
        if current is not None and depth == current_depth:
            current += piece
        else:
            if current is not None:
                out.append(_requote(current, current_depth))
            current, current_depth = piece, depth
        if not soft:
            out.append(_requote(current, current_depth))
            current = None
    if current is not None:
        out.append(_requote(current, current_depth))
    return "\n".join(out)


def _requote(line: str, depth: int) -> str:
    return ("> " * depth + line) if depth else line


# --- attachments and forwarded messages ---------------------------------------------------

def _read_attachment(part: Message, result: ParsedMessage) -> None:
    ctype = _content_type(part)
    name = _filename(part)
    if part.is_multipart():
        return
    if len(result.attachments) >= budgets.MAX_ATTACHMENTS:
        _refuse_attachment(result, name, ctype)
        return
    data = _payload_bytes(part, result)
    _add_attachment(result, attachment_readers.read_attachment(name, ctype, data))


def _add_attachment(result: ParsedMessage, att: Attachment) -> None:
    result.attachments.append(att)
    if att.problem:
        result.add_problem(att.problem.code, att.problem.text)


def _refuse_attachment(result: ParsedMessage, name: str | None, ctype: str) -> None:
    limit = budgets.MAX_ATTACHMENTS
    att = Attachment(filename=name, content_type=ctype, size=0,
                     error=f"not read: more than {limit} attachments in one message")
    result.attachments.append(att)
    result.add_problem(ATTACHMENT_REFUSED, f"Dit bericht heeft meer dan {limit} bijlagen; "
                                           f"alleen de eerste {limit} zijn gelezen.")


def _read_forwarded_eml(part: Message, body: _Body, result: ParsedMessage, depth: int) -> None:
    """A message/rfc822 attachment: parsed recursively, its text goes to `forwarded`."""
    name = _filename(part)
    inner_raw = _inner_message_bytes(part)
    att = Attachment(filename=name, content_type="message/rfc822", size=len(inner_raw))
    result.attachments.append(att)
    if depth + 1 > MAX_NESTING:
        att.error = f"not read: forwarded messages nested deeper than {MAX_NESTING}"
        return
    inner = parse_message(inner_raw, _depth=depth + 1)
    head = [f"Van: {inner.headers.get('from', '')}", f"Datum: {inner.headers.get('date', '')}",
            f"Onderwerp: {inner.subject}"]
    body.forwarded.append("\n".join(head) + "\n\n" + inner.body)
    att.text = ""  # the text is in ParsedMessage.forwarded; not duplicated here
    for inner_att in inner.attachments:
        if len(result.attachments) >= budgets.MAX_ATTACHMENTS:
            _refuse_attachment(result, inner_att.filename, inner_att.content_type)
            break
        result.attachments.append(inner_att)
    result.errors.extend(f"forwarded message: {e}" for e in inner.errors)
    for problem in inner.problems:
        result.add_problem(problem.code, problem.text)


def _inner_message_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        inner = payload[0]
        try:
            return inner.as_bytes(policy=policy.compat32)
        except Exception:  # noqa: BLE001
            return str(inner).encode("utf-8", errors="replace")
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else str(payload).encode("utf-8", errors="replace")


def _mailparser_text(raw: bytes, result: ParsedMessage) -> str:
    """Last resort when the stdlib walk found no text part: ask mail-parser."""
    try:
        import mailparser

        with attachment_readers.quiet_logger("mailparser"):
            parsed = mailparser.parse_from_bytes(raw)
        text = "\n\n".join(parsed.text_plain) or "\n\n".join(parsed.text_html)
        if text.strip():
            result.errors.append("no text part found by the MIME walk; text taken via mail-parser")
        return text
    except Exception as exc:  # noqa: BLE001
        result.errors.append(f"no text part found ({type(exc).__name__}); raw text used")
        return raw.decode("utf-8", errors="replace") if b"\n\n" not in raw else \
            raw.split(b"\n\n", 1)[1].decode("utf-8", errors="replace")
