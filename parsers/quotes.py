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
    r"^[\s>]*\*?(van|from|de|von|fra|från|da|verzonden|sent|datum|date|gesendet|envoyé|"
    r"envoyé le|inviato|aan|to|an|à|a|cc|bcc|onderwerp|subject|betreff|objet|sujet|oggetto|"
    r"emne|ämne)\s*:\*?(\s|$)", re.I)
_FROM_KEY = re.compile(r"^[\s>]*\*?(van|from|de|von|fra|från|da)\s*:\*?\s", re.I)
_RULE = re.compile(r"^\s*(_{10,}|-{10,}|={10,})\s*$")
# '30.09.2017, 18.30, "John" <j@x.com>:' — a date and an address ending in ">:", no verb
_DATED_ADDRESS = re.compile(r"^\S*\d.{0,120}<[^<>\s]+@[^<>\s]+>\s*:\s*$")
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
    r"|outlook voor (ios|android) downloaden|envoyé de mon \S+|von meinem \S+ gesendet"
    r"|gesendet von \S+)", re.I)
_SIG_DASHES = re.compile(r"^\s*--\s*$|^\s*__\s*$")
_PHONE = re.compile(r"(\+|\b0)[\d\s().-]{8,}\d|\b(tel|telefoon|mob|mobiel|t|m)\b\.?:?\s*[\d+(]", re.I)
_ORG = re.compile(r"\b(gemeente|municipality|veiligheidsregio|team|afdeling|provincie|"
                  r"postbus|b\.v\.|bv|stichting|www\.|https?://|kvk|btw|iban|bureau|directie)\b|@",
                  re.I)
_POSTCODE = re.compile(r"\b\d{4}\s?[A-Z]{2}\b")
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
        if span and (not _next_filled(lines, i + span).startswith(">")
                     or _only_quotes_follow(lines, i + span)):
            return i, _kind_at(lines, i, subject)
        if line.lstrip().startswith(">") and _only_quotes_follow(lines, i):
            return _with_attribution_above(lines, i), _kind_at(lines, i, subject)
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
            return span + _name_continues(lines, i + span, joined)
        if _DATED_ADDRESS.search(joined):
            return span
        if len(joined) > 300:
            return 0
    return 0


def _name_continues(lines: list[str], nxt: int, joined: str) -> int:
    """1 when "Op … schreef" is wrapped and the next line holds "Name <addr>:"."""
    if joined.rstrip().endswith(":") or nxt >= len(lines):
        return 0
    line = lines[nxt].strip()
    return int(line.endswith(":") and "@" in line and len(line) < 150)


def _looks_like_attribution(joined: str) -> bool:
    if not joined.rstrip().endswith(":") and not re.search(r"(wrote|schreef)\s*$", joined, re.I):
        return False
    return bool(_WROTE_START.match(joined) or "@" in joined or re.search(r"\d{1,2}:\d{2}", joined))


def _next_filled(lines: list[str], i: int) -> str:
    return next((ln.strip() for ln in lines[i:] if ln.strip()), "")


def _with_attribution_above(lines: list[str], i: int) -> int:
    """Move the start up over a Gmail-style "2013/11/1 John <\\njohn@x.org>" attribution."""
    j = i - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    for top in (j - 1, j):
        if top >= 0 and _is_loose_attribution(lines[top:j + 1]):
            return top
    return i


def _is_loose_attribution(block: list[str]) -> bool:
    text = " ".join(ln.strip() for ln in block)
    if not text or any(not ln.strip() or ln.lstrip().startswith(">") for ln in block) or len(text) > 200:
        return False
    return ("@" in text and (text.endswith((">", ":")) or bool(re.match(r"^\d{4}[/-]\d", text)))) \
        or bool(_attribution_span(block, 0))


def _only_quotes_follow(lines: list[str], i: int) -> bool:
    """True when from line i on every non-empty line is '>'-quoted (else: interleaved reply)."""
    return all(ln.lstrip().startswith(">") for ln in lines[i:] if ln.strip())


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
        if not line.lstrip().startswith(">"):
            kept.append(line)
            continue
        if not quoted or not quoted[-1].lstrip().startswith(">"):
            start = _with_attribution_above(kept + [line], len(kept))
            quoted.extend(kept[start:])
            del kept[start:]
        quoted.append(line)
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
    """Trailing paragraphs that look like a signature, the first opening with a name.

    Walks paragraphs up from the end while they are short contact-like lines or a
    disclaimer; the signature starts at the highest such paragraph that opens with a name.
    """
    start = None
    for begin, block in reversed(_paragraphs(lines)):
        if begin == 0 or not (_is_disclaimer(block) or _is_contact_block(block)):
            break
        if _is_name(block[0]) and (len(block) > 1 or len(block[0].split()) >= 2
                                   or block[0].startswith("-")):
            start = begin
    return start


def _paragraphs(lines: list[str]) -> list[tuple[int, list[str]]]:
    paras, current, begin = [], [], 0
    for i, line in enumerate(lines + [""]):
        if line.strip():
            if not current:
                begin = i
            current.append(line.strip())
        elif current:
            paras.append((begin, current))
            current = []
    return paras


def _is_name(line: str) -> bool:
    line = line.strip("*-_ ").split("|")[0].strip("* ")
    return bool(_NAME.match(line)) and len(line.split()) <= 5


def _is_contact_block(block: list[str]) -> bool:
    if len(block) > 12 or any(len(ln) > 80 for ln in block):
        return False
    if len(block) == 1 and _is_name(block[0]):
        return True
    return any(_PHONE.search(ln) or _ORG.search(ln) or _RULE.match(ln) or ln.startswith("[image")
               or _POSTCODE.search(ln) for ln in block)


def _is_disclaimer(block: list[str]) -> bool:
    text = " ".join(block).lower()
    return any(w in text for w in ("confidential", "vertrouwelijk", "uitsluitend bestemd",
                                   "disclaimer", "intended for", "mailing list", "unsubscribe"))


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
