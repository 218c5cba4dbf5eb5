"""The weekly report: read the store, compute, write the workbook, record it, optionally mail it.

Files: ``<report.folder>/opvanglocaties-YYYY-MM-DD.xlsx`` (the date in Europe/Amsterdam). A file is
never overwritten: a second report on the same day is ``opvanglocaties-YYYY-MM-DD-2.xlsx``, and so
on, so the path and sha256 in each ``reports`` row stay true. The workbook is written to a temporary
file in the same folder and linked into place only when complete; if writing fails (disk full, no
permission) the temporary file is removed and ``ReportWriteError`` raised. The file on disk is the
full version with contact details; a recipient without ``include_contacts`` is mailed a version
built without those columns, which is not stored.

Same data and same ``now`` give the same workbook: fixed sort orders, and every timestamp inside
the file is ``now``.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import select

from reports import labels as L
from reports.changes import build_snapshot, diff
from reports.counting import available_on, coming_mondays, overview
from reports.data import AMSTERDAM, as_utc, collect, locations_frame, province_order, region_order
from reports.files import ReportWriteError, write_new_file  # noqa: F401 - raised through generate_report
from reports.mail import Delivery, MailError, send
from reports.workbook import ReportContent, build_workbook, subtitle, workbook_bytes
from store import Store
from store.schema import Report
from vng_ingest.config import Config

log = logging.getLogger(__name__)


def report_filename(content: ReportContent, number: int = 1) -> str:
    """``opvanglocaties-YYYY-MM-DD.xlsx``; the n-th report of a day gets ``-n`` before the suffix."""
    suffix = "" if number == 1 else f"-{number}"
    return f"opvanglocaties-{content.today.isoformat()}{suffix}.xlsx"


def build_content(config: Config, store: Store, now: datetime) -> ReportContent:
    with store.session() as session:
        given = collect(session, now, config.review.field_threshold)
    today = now.astimezone(AMSTERDAM).date()
    days = [today] + coming_mondays(today)
    frame = locations_frame(given.states)
    frame["counts_now"] = available_on(frame, today)
    previous = given.previous.snapshot if given.previous else None
    snapshot = build_snapshot(frame)
    return ReportContent(
        generated_at=now, period_start=given.previous.generated_at if given.previous else None, today=today,
        locations=frame,
        by_province=overview(frame, "province", province_order(), days, "Provincie"),
        by_region=overview(frame, "region", region_order(), days, "Veiligheidsregio"),
        changes=diff(previous, snapshot), previous=previous, snapshot=snapshot, pending=given.pending)


def free_names(store: Store, folder: Path, content: ReportContent) -> Iterator[Path]:
    """The day's report names in order, leaving out those an earlier report row recorded (even if
    its file was since removed: that row's path must not come to name a different file)."""
    with store.session() as session:
        recorded = set(session.scalars(select(Report.path)))
    for number in itertools.count(1):
        path = folder / report_filename(content, number)
        if str(path) not in recorded:
            yield path


@dataclass
class Totals:
    locations: int
    places: int


def totals_now(content: ReportContent) -> Totals:
    frame = content.locations
    counting = frame[frame["counts_now"]]
    return Totals(int(len(counting)), int(counting["places"].fillna(0).sum()))


def generate_report(config: Config, store: Store, send: bool = False, now: datetime | None = None) -> Path:
    """Write this week's workbook and record it; with ``send``, mail it to the configured recipients.

    ``now`` (default: the current time; a naive value is taken as UTC) fixes the report's moment:
    "today" for the counting is its date in Europe/Amsterdam. Raises ``reports.mail.MailError``
    when sending fails; the workbook is written and its row recorded (with the error) before that.
    Raises ``ReportWriteError`` when the workbook cannot be written (nothing is recorded then).
    """
    now = as_utc(now or datetime.now(timezone.utc)).replace(microsecond=0)
    content = build_content(config, store, now)
    full = workbook_bytes(build_workbook(content, include_contacts=True), now)
    path = write_new_file(full, free_names(store, Path(config.report.folder), content))
    totals = totals_now(content)
    with store.session() as session:
        row = Report(generated_at=now, period_start=content.period_start, period_end=now, path=str(path),
                     sha256=hashlib.sha256(full).hexdigest(), locations=totals.locations,
                     places=totals.places, snapshot=content.snapshot)
        session.add(row)
        session.flush()
        report_id = row.id
    log.info("report written: %s (%d locations, %d places now)", path.name, totals.locations, totals.places)
    if send:
        _mail(config, store, report_id, content, path.name, full, totals)
    return path


def _mail(config: Config, store: Store, report_id: int, content: ReportContent, filename: str,
          full: bytes, totals: Totals) -> None:
    smtp, recipients = config.report.smtp, config.report.recipients
    sent: list[str] = []
    error: str | None = None
    try:
        if smtp is None or not recipients:
            raise MailError("niet verstuurd: geen SMTP-server of geen ontvangers ingesteld (report.smtp, "
                            "report.recipients)")
        without = None
        deliveries = []
        for recipient in recipients:
            if recipient.include_contacts:
                attachment = full
            else:
                without = without or workbook_bytes(build_workbook(content, include_contacts=False),
                                                    content.generated_at)
                attachment = without
            deliveries.append(Delivery(recipient.email, mail_subject(content),
                                       mail_body(content, totals, recipient.include_contacts),
                                       filename, attachment))
        sent = send(smtp, deliveries)
    except MailError as failure:
        error = str(failure)
        raise
    except Exception as failure:                 # e.g. an unusable address: still recorded in the row
        error = f"niet verstuurd: {type(failure).__name__}: {failure}"
        raise MailError(error) from failure
    finally:
        with store.session() as session:
            row = session.get(Report, report_id)
            row.sent_to = ", ".join(sent) or None
            row.error = error


def mail_subject(content: ReportContent) -> str:
    return f"Overzicht opvanglocaties Oekraïne, stand {content.today.strftime('%d-%m-%Y')}"


def mail_body(content: ReportContent, totals: Totals, include_contacts: bool) -> str:
    pending = len(content.pending)
    changed = len({change.location_id for change in content.changes})
    contacts = ("Deze versie bevat de contactgegevens van de gemeenten. Dat zijn persoonsgegevens: deel "
                "het bestand niet verder dan nodig en verwijder het als u het niet meer nodig hebt."
                if include_contacts else
                "Deze versie bevat geen contactgegevens van de gemeenten.")
    return "\n".join([
        "Goedendag,",
        "",
        f"In de bijlage staat het wekelijkse overzicht van de opvanglocaties voor vluchtelingen uit "
        f"Oekraïne die gemeenten bij de VNG hebben gemeld ({subtitle(content, include_contacts)}).",
        "",
        f"Nu beschikbaar: {totals.locations} locaties met samen {totals.places} plekken.",
        f"Sinds het vorige overzicht zijn {changed} locaties nieuw, gewijzigd, ingetrokken of vervallen "
        f"(blad '{L.SHEET_CHANGES}').",
        f"Nog te controleren door het KCC: {pending} meldingen (blad '{L.SHEET_REVIEW}').",
        "",
        contacts,
        f"Op het blad '{L.SHEET_NOTES}' staat wat elke kolom betekent en hoe er geteld wordt.",
        "",
        "Dit bericht is automatisch verstuurd. Vragen kunt u stellen aan de VNG via info@vng.nl.",
        "",
        "Met vriendelijke groet,",
        "VNG",
    ]) + "\n"
