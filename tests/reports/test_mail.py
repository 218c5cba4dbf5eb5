"""Mailing the workbook over STARTTLS to a real SMTP server on loopback."""

from __future__ import annotations

import io

import openpyxl
import pytest

from reports.mail import MailError
from reports.weekly import generate_report
from store.schema import Report
from tests.reports.conftest import JAN, MONDAY
from tests.net import free_port
from tests.reports.smtp_server import PASSWORD, USER, start_server
from vng_ingest.config import Recipient, Secret, SmtpConfig

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def smtp_server(tmp_path):
    controller, inbox, cert_file = start_server(tmp_path)
    yield controller, inbox, cert_file
    controller.stop()


@pytest.fixture
def mail_config(config, smtp_server, monkeypatch):
    controller, _, cert_file = smtp_server
    monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
    config.report.smtp = SmtpConfig(host="127.0.0.1", port=controller.port, starttls=True, username=USER,
                                    password=Secret(env="TEST_SMTP_PASSWORD"), sender="vng-ingest@vng.example",
                                    ca_file=cert_file, timeout_seconds=10)
    config.report.recipients = [Recipient(email="opvang@bzk.example", include_contacts=True),
                                Recipient(email="analyse@jenv.example", include_contacts=False)]
    return config


def attachment(received):
    parts = [part for part in received.message.iter_attachments()]
    assert len(parts) == 1 and parts[0].get_content_type() == XLSX
    assert parts[0].get_filename() == "opvanglocaties-2022-03-07.xlsx"
    return openpyxl.load_workbook(io.BytesIO(parts[0].get_content()))


def test_each_recipient_gets_their_version_over_starttls(mail_config, store, week, smtp_server):
    _, inbox, _ = smtp_server
    generate_report(mail_config, store, send=True, now=MONDAY)
    assert [m.recipients for m in inbox.messages] == [["opvang@bzk.example"], ["analyse@jenv.example"]]
    assert all(m.tls for m in inbox.messages)
    ministry, analysts = inbox.messages
    assert ministry.message["Subject"] == "Overzicht opvanglocaties Oekraïne, stand 07-03-2022"
    assert ministry.message["From"] == "vng-ingest@vng.example"
    body = ministry.message.get_body(("plain",)).get_content()
    assert "Nu beschikbaar: 3 locaties met samen 70 plekken." in body
    assert "bevat de contactgegevens" in body
    assert "bevat geen contactgegevens" in analysts.message.get_body(("plain",)).get_content()

    with_contacts = attachment(ministry)["Locaties"]
    without = attachment(analysts)["Locaties"]
    assert "Contactpersoon" in [c.value for c in with_contacts[4]]
    assert "Contactpersoon" not in [c.value for c in without[4]]
    assert JAN.name in [c.value for row in with_contacts.iter_rows() for c in row]
    assert JAN.name not in [c.value for row in without.iter_rows() for c in row]

    with store.session() as session:
        row = session.query(Report).one()
        assert row.sent_to == "opvang@bzk.example, analyse@jenv.example" and row.error is None


def test_untrusted_certificate_is_refused(mail_config, store, week, smtp_server, tmp_path):
    _, inbox, _ = smtp_server
    mail_config.report.smtp.ca_file = None             # the system CAs do not know our certificate
    with pytest.raises(MailError, match="SSLCertVerificationError"):
        generate_report(mail_config, store, send=True, now=MONDAY)
    assert inbox.messages == []
    assert (mail_config.report.folder / "opvanglocaties-2022-03-07.xlsx").exists()   # written anyway
    with store.session() as session:
        row = session.query(Report).one()
        assert row.sent_to is None and "SSLCertVerificationError" in row.error


def test_wrong_password_is_reported(mail_config, store, week, smtp_server, monkeypatch):
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "fout")
    with pytest.raises(MailError, match="SMTPAuthenticationError"):
        generate_report(mail_config, store, send=True, now=MONDAY)
    assert smtp_server[1].messages == []


def test_unreachable_server_is_reported(mail_config, store, week):
    mail_config.report.smtp.port = free_port()          # nothing listens there
    with pytest.raises(MailError, match="mislukt na 0 van 2"):
        generate_report(mail_config, store, send=True, now=MONDAY)


def test_send_without_recipients_says_so(config, store, week):
    with pytest.raises(MailError, match="geen ontvangers"):
        generate_report(config, store, send=True, now=MONDAY)


def test_unusable_address_is_recorded(mail_config, store, week, smtp_server):
    mail_config.report.recipients = [Recipient(email="a@b.example\r\nBcc: x@evil.example")]
    with pytest.raises(MailError, match="niet verstuurd"):
        generate_report(mail_config, store, send=True, now=MONDAY)
    assert smtp_server[1].messages == []
    with store.session() as session:
        assert "niet verstuurd" in session.query(Report).one().error
