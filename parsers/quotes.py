"""Split a reply into what the sender wrote now, their signature, the quoted history
and any forwarded message.

The replies to the VNG letter nearly always quote that letter in full, and the letter
itself is full of dates and numbers ("vóór vrijdag 4 maart 2022"). Extraction must
only ever read the new text, so the boundary has to be found reliably for the Dutch
and English mail clients municipalities use (Outlook header blocks, "Op … schreef …:",
Apple's "het volgende geschreven", "> " quoting). A forward is different from a
quote: the sender passes its content on on purpose, so it is kept apart as
`forwarded` rather than thrown in with the history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- quote and forward boundaries -------------------------------------------------

_ORIGINAL = re.compile(
    r"^[\s>]*-{2,}\s*(oorspronkelijk bericht|origineel bericht|original message|"
    r"ursprüngliche nachricht|message d'origine|originalmeddelande|original meddelelse|"
    r"opprinnelig melding|mensaje original|messaggio originale|alkuperäinen viesti|"
    r"reply message|oryginalna wiadomość)\s*-{2,}\s*$", re.I)
_FORWARD = re.compile(
    r"^[\s>]*(-{2,}\s*(doorgestuurd bericht|forwarded message|weitergeleitete nachricht|"
    r"message transféré|videresendt melding|vidarebefordrat meddelande)\s*-{2,}"
    r"|begin (doorgestuurd bericht|forwarded message)\s*:|"
    r"(doorgestuurd|forwarded) (bericht|message)\s*:)\s*$", re.I)
_WROTE_END = re.compile(
    r"(wrote|schreef|geschreven|schrieb|a écrit|escribió|scrisse|skrev|kirjoitti|napisał|"
    r"escreveu|написал\w*|写道)\b[^:\n]{0,150}:?\s*$", re.I)
_WROTE_START = re.compile(r"^\s*(on|op|am|le|el|il|den|på|em|w dniu|\d{1,4}[./-]\d)", re.I)
_HEADER_KEY = re.compile(
    r"^[\s>]*\*?(van|from|de|von|fra|från|verzonden|sent|datum|date|gesendet|envoyé|"
    r"aan|to|an|à|cc|bcc|onderwerp|subject|betreff|objet|sujet|emne|ämne)\s*:\*?(\s|$)", re.I)
_FROM_KEY = re.compile(r"^[\s>]*\*?(van|from|de|von|fra|från)\s*:\*?\s", re.I)
_RULE = re.compile(r"^\s*(_{10,}|-{10,}|={10,})\s*$")
_FW_SUBJECT = re.compile(r"^\s*((fw|fwd|doorst|wg|tr|vs|rv)\s*:\s*)+", re.I)

# --- sign-off and signature ------------------------------------------------------

_SALUTATION = re.compile(
    r"^\s*(met\s+)?(vriendelijke|hartelijke|hartelijk|warme|beste|collegiale|zonnige|"
    r"fijne|lieve|sportieve)?\s*groet(en|jes|nis|e)?\b"
    r"|^\s*(mvg|m\.v\.g\.?|gr\.|vr\.gr\.|vrgr|groetjes|groetnis|doei)\b"
    r"|^\s*mei freonlike groetnis"
    r"|^\s*(kind|best|warm|warmest|kindest)\s+(regards|wishes)\b"
    r"|^\s*(regards|cheers|sincerely|yours (truly|sincerely)|thanks|thank you|many thanks|"
    r"thx|best|bedankt|dank je wel|dank u wel|alvast bedankt)\s*,?\s*$"
    r"|^\s*namens\s+.{3,60},\s*$", re.I)
_DEVICE = re.compile(
    r"^\s*((verzonden|verstuurd) (vanaf|met|vanuit|via) (mijn|de)?\s*\S+"
    r"|sent (from|with|via) (my )?\S+|get outlook for \S+|download outlook for \S+"
    r"|outlook voor (ios|android) downloaden|envoyé de mon \S+|von meinem \S+ gesendet)", re.I)
_SIG_DASHES = re.compile(r"^\s*--\s*$|^\s*__\s*$")
_PHONE = re.compile(r"(\+|\b0)[\d\s().-]{8,}\d|\b(tel|telefoon|mob|mobiel|t|m)\b\.?:?\s*[\d+(]", re.I)
_ORG = re.compile(r"\b(gemeente|municipality|veiligheidsregio|team|afdeling|provincie|"
                  r"postbus|b\.v\.|bv|stichting|www\.|https?://|kvk|bureau|directie)\b|@", re.I)
_NAME = re.compile(r"^(?:[A-Z]\.)*\s*[A-ZÀ-Ý][\w'’.-]+(\s+(van|de|der|den|ter|ten|het|'t|el|"
                   r"[A-ZÀ-Ý][\w'’.-]*))*\s*$")

MAX_SIGNATURE_LINES = 25      # a sign-off farther up than this is probably part of the text
MAX_HEADER_WINDOW = 8         # lines in which an Outlook header block must show its keys


@dataclass
class ReplyParts:
    """The four parts of a message text."""

    new_text: str = ""
    signature: str = ""
    quoted: str = ""
    forwarded: str = ""


def split_reply(text: str, subject: str = "", quote_line: int | None = None) -> ReplyParts:
    """Split `text`; `quote_line` is a boundary already known (e.g. from HTML markup)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start, kind = find_quote_start(lines, subject)
    if quote_line is not None and (start is None or quote_line < start):
        start, kind = quote_line, _kind_at(lines, quote_line, subject)
    head = lines if start is None else lines[:start]
    tail = [] if start is None else lines[start:]
    head, inline_quotes = _take_inline_quotes(head)
    new_text, signature = split_signature(head)
    parts = ReplyParts(new_text=new_text, signature=signature)
    tail_text = _lines_text(tail)
    if kind == "forward":
        parts.forwarded = _unquote(tail_text)
    else:
        parts.quoted = tail_text
    if inline_quotes:
        parts.quoted = _paras(inline_quotes, parts.quoted)
    return parts


def find_quote_start(lines: list[str], subject: str = "") -> tuple[int | None, str]:
    """Index of the first line of quoted/forwarded history and its kind ('quote'/'forward')."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _FORWARD.match(line):
            return _with_rule_above(lines, i), "forward"
        if _ORIGINAL.match(line):
            return _with_rule_above(lines, i), _kind_at(lines, i, subject)
        if _is_header_block(lines, i):
            return _with_rule_above(lines, i), _kind_at(lines, i, subject)
        span = _attribution_span(lines, i)
        if span:
            return i, _kind_at(lines, i, subject)
        if line.lstrip().startswith(">") and _only_quotes_follow(lines, i):
            return i, _kind_at(lines, i, subject)
    return None, "quote"


def _kind_at(lines: list[str], i: int, subject: str) -> str:
    """A boundary opens a forward if a forward marker is right there or the subject says FW."""
    window = [ln for ln in lines[i:i + 3] if ln.strip()][:2]
    if any(_FORWARD.match(ln) for ln in window):
        return "forward"
    if _FW_SUBJECT.match(subject or "") and (
            any(_is_header_block(lines, j) for j in range(i, min(i + 3, len(lines))))
            or any(_ORIGINAL.match(ln) for ln in window)):
        return "forward"
    return "quote"


def _is_header_block(lines: list[str], i: int) -> bool:
    """Outlook/Apple header block: a From line followed by at least two other header keys."""
    if not _FROM_KEY.match(lines[i]):
        return False
    keys = set()
    for line in lines[i + 1:i + MAX_HEADER_WINDOW]:
        m = _HEADER_KEY.match(line)
        if m:
            keys.add(m.group(1).lower())
    return len(keys) >= 2


def _attribution_span(lines: list[str], i: int) -> int:
    """Number of lines (1–3) of an "On … wrote:" / "Op … schreef …:" line, or 0."""
    first = lines[i].strip()
    if first.startswith(">") or len(first) > 250:
        return 0
    joined = first
    for span in range(1, 4):
        if span > 1:
            nxt = lines[i + span - 1].strip() if i + span - 1 < len(lines) else ""
            if not nxt or nxt.startswith(">"):
                return 0
            joined += " " + nxt
        if _WROTE_END.search(joined) and _looks_like_attribution(joined):
            return span
        if len(joined) > 300:
            return 0
    return 0


def _looks_like_attribution(joined: str) -> bool:
    if joined.rstrip().endswith(":") is False and not re.search(r"(wrote|schreef)\s*$", joined, re.I):
        return False
    return bool(_WROTE_START.match(joined) or "@" in joined or re.search(r"\d{1,2}:\d{2}", joined))


def _only_quotes_follow(lines: list[str], i: int) -> bool:
    """True when from line i on everything is '>'-quoted, blank, or a short trailing note."""
    rest = [ln for ln in lines[i:] if ln.strip()]
    plain = [ln for ln in rest if not ln.lstrip().startswith(">")]
    return len(plain) <= max(2, len(rest) // 10)


def _with_rule_above(lines: list[str], i: int) -> int:
    """Include a '_____' rule or blank-separated rule right above a header block."""
    j = i - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j >= 0 and (_RULE.match(lines[j]) or _ORIGINAL.match(lines[j])):
        return j
    return i


def _take_inline_quotes(head: list[str]) -> tuple[list[str], str]:
    """Remove '>' quoted blocks (and their attribution line) that sit between new text."""
    kept: list[str] = []
    quoted: list[str] = []
    for line in head:
        if line.lstrip().startswith(">"):
            quoted.append(line)
            if kept and _attribution_span(kept, len(kept) - 1):
                quoted.insert(len(quoted) - 1, kept.pop())
        else:
            kept.append(line)
    return kept, _lines_text(quoted)


# --- signature ---------------------------------------------------------------------

def split_signature(lines: list[str]) -> tuple[str, str]:
    """(new text, signature): the signature runs from the closing salutation to the end."""
    start = _salutation_line(lines)
    if start is None:
        start = _device_or_dashes_line(lines)
    if start is None:
        start = _trailing_signature_block(lines)
    if start is None:
        return _lines_text(lines).strip(), ""
    return _lines_text(lines[:start]).strip(), _lines_text(lines[start:]).strip()


def _salutation_line(lines: list[str]) -> int | None:
    """First sign-off line with at most MAX_SIGNATURE_LINES non-empty lines after it."""
    filled = [i for i, ln in enumerate(lines) if ln.strip()]
    for n, i in enumerate(filled):
        if len(filled) - n - 1 > MAX_SIGNATURE_LINES:
            continue
        line = lines[i].strip()
        if len(line) <= 60 and _SALUTATION.match(line) and n > 0:
            return i
    return None


def _device_or_dashes_line(lines: list[str]) -> int | None:
    filled = [i for i, ln in enumerate(lines) if ln.strip()]
    for n, i in enumerate(filled):
        if len(filled) - n - 1 > MAX_SIGNATURE_LINES or n == 0:
            continue
        if _SIG_DASHES.match(lines[i]) or _DEVICE.match(lines[i]):
            return i
    return None


def _trailing_signature_block(lines: list[str]) -> int | None:
    """The last paragraph, if it is short lines opening with a name and holding a phone/org."""
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    begin = end
    while begin > 0 and lines[begin - 1].strip():
        begin -= 1
    block = [ln.strip() for ln in lines[begin:end]]
    if begin == 0 or not 1 <= len(block) <= 8 or any(len(ln) > 70 for ln in block):
        return None
    if not _NAME.match(block[0]) or len(block[0].split()) > 5:
        return None
    if len(block) == 1:
        return begin if len(block[0].split()) >= 2 else None
    if any(_PHONE.search(ln) or _ORG.search(ln) for ln in block[1:]):
        return begin
    return None


# --- helpers -------------------------------------------------------------------------

def _unquote(text: str) -> str:
    """Remove one level of '> ' quoting when every non-empty line carries it."""
    lines = text.split("\n")
    filled = [ln for ln in lines if ln.strip()]
    if filled and all(ln.lstrip().startswith(">") for ln in filled):
        lines = [re.sub(r"^\s*> ?", "", ln) for ln in lines]
    return "\n".join(lines).strip("\n")


def _lines_text(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")


def _paras(*texts: str) -> str:
    return "\n\n".join(t.strip("\n") for t in texts if t and t.strip())
