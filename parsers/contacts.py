"""The contact person: an explicitly named one wins; otherwise the signer of the message.

Fields are never borrowed across people: a named colleague's missing phone stays empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsers.fields import find_emails, find_phones
from parsers.message import ParsedMessage
from parsers.vocabulary import regex, words
from vng_ingest.models import Contact, FieldEvidence
from vng_ingest.refdata import given_names, surname_particles

MARKER = re.compile(
    r"(?:contact\s?persoon|contact person|contactpersonen|aanspreekpunt|(?:kunt u )?contact opnemen met|"
    r"neem contact op met|(?:u kunt|kunt u) terecht bij|"
    r"contact|voor (?:meer informatie|vragen|informatie)(?: over [^:\n]{0,40})?|bereikbaar via|"
    r"coördinator(?: is)?|coordinator(?: is)?|vragen kunnen naar|u kunt terecht bij)"
    r"(?:\s+(?:voor|van|bij|namens)\s+[^:\n]{0,50}?\s*(?:is|wordt|blijft|ben|:|-|–)|\s*(?:is|wordt|blijft|ben|:|-|–)?)\s*"
    r"(?:(?:mijn|onze|ons) (?:collega|medewerker|\w+),?\s+(?=[A-Z]))?", re.IGNORECASE)
SELF = re.compile(r"^\s*(?:ondergetekende|mijzelf|ikzelf|ik\b|mij\b|bij mij\b|de afzender)", re.IGNORECASE)
#: The marker itself says the writer is the contact: 'Aanspreekpunt … ben ik zelf: 06 …'.
SELF_IN_MARKER = re.compile(r"\b(?:ben ik|ik ben|ikzelf|mijzelf|bij mij)\b", re.IGNORECASE)
SALUTATION = re.compile(r"^\s*(?:met\s+)?(?:vriendelijke|hartelijke|beste|collegiale)?\s*(?:groet(?:en)?|groetjes|"
                        r"groetnis|regards|mvg|m\.v\.g\.?|gr\.?|dank en groet|hoogachtend|alvast bedankt)[,.!]?\s*$",
                        re.IGNORECASE)
#: A sign-off and a name on one line: 'Mvg Joyce', 'Groet, Jan de Vries'.
SALUTATION_PREFIX = re.compile(r"^(?:met\s+)?(?:vriendelijke\s+|hartelijke\s+)?(?:groet(?:en)?|groetjes|mvg|m\.v\.g\.?|gr\.?)"
                               r"[,.!]?\s+(?=[A-Z])", re.IGNORECASE)
CALLED = re.compile(r"(?:[A-Z]\.\s?)+\s*\(([A-Z][a-zà-ÿ]+)\)\s+")
NAME_TOKEN = r"(?:[A-Z][a-zà-ÿ'’]+(?:-[A-Za-z][a-zà-ÿ'’]+)*|(?:[A-Z]\.){1,4}|[A-Z]{2,3}\.?)"


@dataclass
class Person:
    name: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None
    evidence: dict[str, FieldEvidence] = field(default_factory=dict)
    score: float = 0.0
    is_signer: bool = False           # 'ondergetekende': the signer, with the reach given here

    def contact(self) -> Contact:
        return Contact(self.name, self.role, self.phone, self.email)


def _titles() -> re.Pattern:
    titles = sorted(words()["titles"], key=len, reverse=True)
    return re.compile(r"^(?:(?:" + "|".join(re.escape(t) for t in titles) + r")(?:\s+|(?<=\.)))+", re.IGNORECASE)


TITLES = _titles()


def read_name(text: str) -> tuple[str, int] | None:
    """A person's name at the start of ``text`` (titles dropped): returns (name, length consumed)."""
    title = TITLES.match(text)
    offset = title.end() if title else 0
    rest = text[offset:]
    called = CALLED.match(rest)
    if called:                       # 'H. (Harm) Nijboer': the given name in brackets is the name used
        given = called.group(1)
        full = read_name(f"{given} {rest[called.end():]}")
        if full and " " in full[0]:
            return full[0], offset + called.end() + full[1] - len(given) - 1
    particles = surname_particles()
    tokens: list[str] = []
    position = 0
    for match in re.finditer(r"[ \t]*([^\s,;:()|<>\"]+)", rest):
        if match.start() != position:
            break
        token = match.group(1).rstrip(".") if not re.fullmatch(r"(?:[A-Z]\.)+", match.group(1)) else match.group(1)
        bare = token.rstrip(".")
        if re.fullmatch(NAME_TOKEN, token) or re.fullmatch(NAME_TOKEN, bare):
            tokens.append(token)
        elif bare.lower() in particles and tokens:
            tokens.append(bare)
        else:
            break
        position = match.end()
        if match.group(1).endswith(".") and not re.fullmatch(r"(?:[A-Z]\.)+", match.group(1)):
            break
    while tokens and tokens[-1].lower() in particles:
        tokens.pop()
    if not tokens or not _looks_like_person(tokens):
        return None
    name = " ".join(tokens)
    consumed = offset + rest.find(tokens[-1]) + len(tokens[-1])
    return name, consumed


def _looks_like_person(tokens: list[str]) -> bool:
    first = tokens[0]
    if first.lower() in {"gemeente", "team", "afdeling", "de", "het", "veiligheidsregio", "postbus", "tel", "mob",
                         "telefoon", "e-mail", "email", "www", "ik", "wij", "we", "zij", "hij", "graag", "vanaf",
                         "per", "beschikbaar", "bereikbaar", "locatie", "adres"}:
        return False
    if len(tokens) == 1:
        return first in given_names()
    return True


def read_role(text: str) -> tuple[str, int] | None:
    """', teamleider OOV' or ' (Beleidsadviseur Sociaal Domein)' right after a name."""
    text = re.sub(r"^\s*<[^<>\s]+@[^<>\s]+>", "", text)          # 'Name <address> (role)'
    match = re.match(r"\s*(?:,|\(|-|–|\|)\s*([A-Za-zÀ-ÿ][^,;()\n|@]{2,80}?)\s*(?:\)|,|;|\.(?:\s|$)|\n|\||$)", text)
    if not match:
        return None
    role = match.group(1).strip()
    if re.search(r"\d|@|\b(?:tel|telefoon|bereikbaar|te bereiken|via|mail|mobiel)\b", role, re.IGNORECASE):
        return None
    if not regex("role_words", whole_word=False).search(role):
        return None
    role = re.sub(r"\s+(?:bij|van)\s+(?:de\s+)?(?:gemeente|veiligheidsregio)\b.*$", "", role, flags=re.IGNORECASE)
    return role, match.end(1)


def named_contacts(text: str, part: str = "body") -> list[tuple[int, Person | None]]:
    """Explicitly named contacts in order; None where the text points at the signer ('ondergetekende')."""
    found: list[tuple[int, Person | None]] = []
    for marker in MARKER.finditer(text):
        after = text[marker.end():marker.end() + CONTACT_REACH]
        if SELF.match(after) or SELF_IN_MARKER.search(marker.group(0)):
            person = Person(score=0.85, is_signer=True)
            window = after[:_sentence_end(after)]
            window = window[:_next_contact(window)]
            _reach(person, window[:_other_person(window)], marker.end(), part)
            found.append((marker.start(), person))
            continue
        name = _name_near(after)
        if not name:
            continue
        skip, (full, consumed), role_before = name
        person = Person(full, score=0.9 if not skip else 0.85)
        start = marker.end() + skip + after[skip:].find(full.split()[0])
        person.evidence["contact.name"] = FieldEvidence(full, start, start + len(full), part)
        tail = after[skip + consumed:]
        role = read_role(tail)
        person.role = role[0] if role else role_before
        window = tail[:_sentence_end(tail)]
        _reach(person, window[:_next_contact(window)], marker.end() + skip + consumed, part)
        found.append((marker.start(), person))
    found = sorted(found + _named_before_marker(text, part, [start for start, _ in found]), key=lambda item: item[0])
    return found or mailbox_contact(text, part)


REVERSE = re.compile(r"\b(?:is|blijft|wordt|zijn)\s+(?P<who>[^.\n:]{3,80}?),?\s+(?:het|de|ons|onze)\s+"
                     r"(?:aanspreekpunt|contactpersoon|contact)\b", re.IGNORECASE)


MAILBOX = re.compile(r"\b(?:mail|mailen|e-?mail)\s+(?:naar|aan|via)\s+([\w.+-]+@[\w-]+(?:\.[\w-]+)+)", re.IGNORECASE)


PERSONAL_ADDRESS = re.compile(r"^(?:[a-z]{1,2}\.)+[a-z-]+@|^[a-z]+\.[a-z-]+@")


def mailbox_contact(text: str, part: str) -> list[tuple[int, Person]]:
    """'Vragen? Mail naar opvang@zundert.nl': a team mailbox is the way to reach them (no person named)."""
    found = []
    for match in MAILBOX.finditer(text):
        address = match.group(1).lower().rstrip(".")
        if PERSONAL_ADDRESS.match(address):
            continue                     # 'mailen naar j.hulshof@…' is a person's own address
        person = Person(None, email=address, score=0.5)
        person.evidence["contact.email"] = FieldEvidence(match.group(1), match.start(1), match.end(1), part)
        found.append((match.start(), person))
    return found


def _named_before_marker(text: str, part: str, taken: list[int]) -> list[tuple[int, Person | None]]:
    """'… is Jeroen Boogaard, adviseur veiligheid, het aanspreekpunt: (06) 1234 3309, …'."""
    found: list[tuple[int, Person | None]] = []
    for match in REVERSE.finditer(text):
        who = match.group("who")
        name = _name_near(who)
        if not name or any(match.start() <= start <= match.end() for start in taken):
            continue
        skip, (full, consumed), _ = name
        person = Person(full, score=0.85)
        begin = match.start("who") + skip
        person.evidence["contact.name"] = FieldEvidence(full, begin, begin + len(full), part)
        role = read_role(who[skip + consumed:] + ",")
        person.role = role[0] if role else None
        tail = text[match.end():match.end() + CONTACT_REACH]
        window = tail[:_sentence_end(tail)]
        _reach(person, window[:_next_contact(window)], match.end(), part)
        found.append((match.start(), person))
    return found


def _other_person(window: str) -> int:
    """Where another person is named in the window ('…, voor punt 2 onze inkoper Jeroen Mensink')."""
    for match in re.finditer(r"(?<![\w.])[A-Z]", window):
        found = read_name(window[match.start():match.start() + NAME_REACH])
        if found and found[0].split()[0] in given_names() and " " in found[0]:
            return match.start()
    return len(window)


def _next_contact(window: str) -> int:
    """Where the next named person starts in the window (their phone is not ours)."""
    for marker in MARKER.finditer(window):
        after = window[marker.end():marker.end() + NAME_REACH]
        if marker.start() > 0 and (read_name(after) or SELF.match(after)):
            return marker.start()
    return len(window)


def _name_near(after: str) -> tuple[int, tuple[str, int], str | None] | None:
    """A name right after the marker, or a little further on after a title or a role ('onze manager, mevrouw X')."""
    direct = read_name(after)
    if direct:
        return 0, direct, None
    head = re.split(r"[.\n]", after[:80])[0]
    for match in re.finditer(r"(?<![\w.])(?:[A-Z]|(?:dhr|mevr|mw|mevrouw|meneer|de heer)\b)", head):
        found = read_name(after[match.start():])
        if found and (TITLES.match(after[match.start():]) or found[0].split()[0] in given_names()):
            before = head[:match.start()].strip(" ,:")
            before = re.sub(r"^(?:is|wordt|blijft)\s+|^(?:onze|ons|mijn|de|het)\s+", "", before).strip(" ,")
            before = re.sub(r"^(?:onze|ons|mijn|de|het)\s+", "", before)
            role = before if before and regex("role_words", whole_word=False).search(before) else None
            return match.start(), found, role
    return None


#: How far after a contact marker ('contactpersoon:') its name, role, phone and e-mail are
#: looked for, and how much text a name is read from: every marker read the rest of the text.
CONTACT_REACH = 5000
NAME_REACH = 300


def _sentence_end(text: str) -> int:
    match = re.search(r"\n\s*\n|\n\s*(?:[-*•]|\d+[.)]|[A-Z][.)])\s", text[:CONTACT_REACH])
    return match.start() + 1 if match else min(len(text), 250)


def _reach(person: Person, window: str, offset: int, part: str) -> None:
    phones, emails = find_phones(window), find_emails(window)
    if phones:
        person.phone = phones[0].value
        person.evidence["contact.phone"] = FieldEvidence(phones[0].text, offset + phones[0].start,
                                                         offset + phones[0].end, part)
    if emails:
        person.email = emails[0].value
        person.evidence["contact.email"] = FieldEvidence(emails[0].text, offset + emails[0].start,
                                                         offset + emails[0].end, part)


def display_name(from_name: str | None) -> str | None:
    """'Bakker, Lisa' → 'Lisa Bakker'; 'Gemeente Emmen - Sandra Moes' → 'Sandra Moes'."""
    if not from_name:
        return None
    name = from_name.strip().strip('"')
    if " - " in name:
        name = name.split(" - ")[-1]
    if "," in name:
        last, first = [p.strip() for p in name.split(",", 1)]
        parts = last.split()
        particles = [p for p in parts if p.lower() in surname_particles()]
        core = [p for p in parts if p.lower() not in surname_particles()]
        name = " ".join([first, *particles, *core])
    found = read_name(name)
    return found[0] if found else None


def signer(parsed: ParsedMessage) -> Person:
    """The person who signed: name and role from the sign-off, phone and e-mail from the signature."""
    lines = parsed.signature.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if SALUTATION.match(line)), 0)
    person = Person(score=0.0)
    offset = sum(len(line) + 1 for line in lines[:start])
    for index in range(start, min(len(lines), start + 4)):
        line = SALUTATION_PREFIX.sub("", lines[index].strip())
        if not line:
            offset += len(lines[index]) + 1
            continue
        found = read_name(line) if len(line) < 60 else None
        if found:
            person.name = found[0]
            column = lines[index].find(found[0].split()[0])
            person.evidence["contact.name"] = FieldEvidence(found[0], offset + column, offset + column + len(found[0]),
                                                            "signature")
            person.score = 0.85 if " " in found[0] else 0.7
            person.role = _signature_role(lines[index + 1:index + 3], line[found[1]:])
            break
        offset += len(lines[index]) + 1
    if not person.name:
        _sign_off_in_text(person, parsed)
    full = display_name(parsed.from_name)
    if person.name and " " not in person.name and full and full.split()[0] == person.name:
        person.name, person.score = full, 0.8
    if not person.name and full:
        person.name, person.score = full, 0.6
        person.evidence["contact.name"] = FieldEvidence(parsed.from_name or full, None, None, "header")
    _reach_signature(person, parsed)
    return person


def _sign_off_in_text(person: Person, parsed: ParsedMessage) -> None:
    """'Gr Marieke' as the last line of a short reply (the signature held only 'Verstuurd vanaf …')."""
    lines = [line.strip() for line in parsed.new_text.strip().splitlines() if line.strip()]
    for line in lines[-2:]:
        stripped = SALUTATION_PREFIX.sub("", line)
        found = read_name(stripped) if stripped != line and len(stripped) < 40 else None
        if found:
            person.name, person.score = found[0], (0.85 if " " in found[0] else 0.7)
            person.evidence["contact.name"] = FieldEvidence(found[0], None, None, "body")


def _signature_role(following: list[str], rest_of_line: str) -> str | None:
    inline = read_role(rest_of_line)
    if inline:
        return inline[0]
    for line in following[:1]:
        text = line.strip()
        text = re.split(r"\s*\|\s*", text)[0]
        if (text and not re.search(r"\d|@|^(?:gemeente|veiligheidsregio|t\b|m\b|tel|e\b|www)", text, re.IGNORECASE)
                and len(text) < 80):
            return text
    return None


def _reach_signature(person: Person, parsed: ParsedMessage) -> None:
    sign = parsed.signature
    phones = find_phones(sign)
    mobile = [p for p in phones if p.value.startswith("+316")]
    chosen = (mobile or phones or [None])[0]
    if chosen:
        person.phone = chosen.value
        person.evidence["contact.phone"] = FieldEvidence(chosen.text, chosen.start, chosen.end, "signature")
    emails = [e for e in find_emails(sign) if not e.value.startswith(("info@", "noreply"))]
    if emails:
        person.email = emails[0].value
        person.evidence["contact.email"] = FieldEvidence(emails[0].text, emails[0].start, emails[0].end, "signature")
    elif parsed.from_addr:
        person.email = parsed.from_addr
        person.evidence["contact.email"] = FieldEvidence(parsed.from_addr, None, None, "header")


FORWARD_FROM = re.compile(r"^\s*(?:Van|From)\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def forwarded_author(parsed: ParsedMessage) -> ParsedMessage:
    """The writer of a forwarded message, as if they had sent it: their 'Van:' line and sign-off."""
    text = parsed.forwarded
    header = FORWARD_FROM.search(text)
    if not header:
        return parsed
    found = re.match(r"\s*\"?([^<\"]*?)\"?\s*<([^>]+)>", header.group(1))
    name, address = (found.group(1).strip(), found.group(2).strip().lower()) if found else (None, None)
    lines = text.splitlines()
    closing = max((i for i, line in enumerate(lines) if SALUTATION.match(line)), default=None)
    signature = "\n".join(lines[closing:]) if closing is not None else ""
    return ParsedMessage(from_name=name, from_addr=address, signature=signature, date=parsed.date,
                         subject=parsed.subject)
