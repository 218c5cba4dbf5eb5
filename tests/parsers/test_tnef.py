"""TNEF (winmail.dat from Outlook): the body inside becomes readable text."""

import struct
from email.message import EmailMessage

from parsers.mime import parse_message


def _attribute(level: int, ident: int, data: bytes) -> bytes:
    return struct.pack("<BII", level, ident, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def winmail(body: str) -> bytes:
    """A minimal TNEF stream as Outlook writes it: signature, key, version and the body attribute."""
    return (struct.pack("<IH", 0x223E9F78, 0x0101)
            + _attribute(1, 0x00089006, struct.pack("<I", 0x00010000))
            + _attribute(1, 0x0001800C, body.encode("cp1252") + b"\x00"))


def test_winmail_dat_body_is_read():
    message = EmailMessage()
    message["From"] = "Gemeente Test <info@example.nl>"
    message["Subject"] = "Opvanglocatie"
    message.set_content("Zie bijlage.")
    message.add_attachment(winmail("De sporthal is per 1 april beschikbaar voor 40 personen."),
                           maintype="application", subtype="ms-tnef", filename="winmail.dat")
    parsed = parse_message(message.as_bytes())
    [attachment] = parsed.attachments
    assert attachment.error is None
    assert "beschikbaar voor 40 personen" in attachment.text


def test_broken_winmail_dat_is_refused_with_its_reason():
    message = EmailMessage()
    message.set_content("Zie bijlage.")
    message.add_attachment(b"not tnef at all", maintype="application", subtype="ms-tnef", filename="winmail.dat")
    parsed = parse_message(message.as_bytes())
    [attachment] = parsed.attachments
    assert attachment.text == "" and attachment.error
