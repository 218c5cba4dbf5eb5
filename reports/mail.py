"""Mailing the workbook over SMTP, with STARTTLS unless the config says otherwise.

Each recipient gets a message of their own (recipients do not see each other) with the version of
the workbook their audience may see: with or without contact details. Recipient addresses are
not logged (they may name a person).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from vng_ingest.config import SmtpConfig
from vng_ingest.tls import tls_context as shared_tls_context

log = logging.getLogger(__name__)

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class MailError(RuntimeError):
    """The workbook was written but could not be mailed; the message says why, in plain words."""


@dataclass
class Delivery:
    recipient: str
    subject: str
    body: str
    filename: str
    attachment: bytes


def tls_context(smtp: SmtpConfig) -> ssl.SSLContext:
    return shared_tls_context(smtp.ca_file, smtp.verify_certificate)


def compose(smtp: SmtpConfig, delivery: Delivery) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = delivery.recipient
    message["Subject"] = delivery.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    message.set_content(delivery.body)
    message.add_attachment(delivery.attachment, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1],
                           filename=delivery.filename)
    return message


def send(smtp: SmtpConfig, deliveries: list[Delivery]) -> list[str]:
    """Send every delivery over one connection; returns the recipients that were accepted."""
    sent: list[str] = []
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
            client.ehlo()
            if smtp.starttls:
                client.starttls(context=tls_context(smtp))   # no STARTTLS offered → error, never plain
                client.ehlo()
            if smtp.username:
                client.login(smtp.username, smtp.password.read() or "")
            for delivery in deliveries:
                client.send_message(compose(smtp, delivery))
                sent.append(delivery.recipient)
    except (OSError, smtplib.SMTPException) as error:
        log.error("mailing the report failed after %d of %d messages: %s", len(sent), len(deliveries),
                  type(error).__name__)
        raise MailError(f"versturen via {smtp.host}:{smtp.port} mislukt na {len(sent)} van "
                        f"{len(deliveries)} berichten: {type(error).__name__}: {error}") from error
    log.info("report mailed to %d recipients", len(sent))
    return sent
