"""Attachments turned into text and tables, within safety limits.

Several municipalities send their locations only as a spreadsheet, a Word table or a
CSV export, so attachments must be read as carefully as the body. Tables become row
dicts keyed by the header row, so later steps can map "Adres"/"Aantal plekken" columns
directly. Office files are zip archives and PDFs can be huge, so every reader runs
behind limits; a refusal is recorded in `Attachment.error` and never raises.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import re
import struct
import zipfile
import zlib
from datetime import date, datetime, time
from xml.etree import ElementTree

from parsers import budgets
from parsers.budgets import megabytes, thousands
from parsers.message import ATTACHMENT_REFUSED, ATTACHMENT_UNREADABLE, TRUNCATED, Attachment, Problem

Table = list[dict[str, str]]


def read_attachment(filename: str | None, content_type: str, data: bytes) -> Attachment:
    """Text and tables of one attachment; problems go into `error`, never raised."""
    att = Attachment(filename=filename, content_type=content_type, size=len(data))
    if len(data) > budgets.MAX_ATTACHMENT_BYTES:
        att.error = (f"not read: {len(data)} bytes is over the limit of "
                     f"{budgets.MAX_ATTACHMENT_BYTES} bytes")
        refuse(att, f"groter dan {megabytes(budgets.MAX_ATTACHMENT_BYTES)}")
        return att
    reader = _reader_for(filename or "", content_type.lower(), data)
    if reader is None:
        return att
    try:
        reader(data, att)
    except Exception as exc:  # noqa: BLE001 — any reader failure becomes a recorded error
        att.error = f"could not read {_kind_name(reader)}: {type(exc).__name__}"
        att.problem = att.problem or Problem(ATTACHMENT_UNREADABLE,
                                             f"De bijlage {_name(att)} kon niet worden gelezen.")
    if len(att.text) > budgets.MAX_BODY_CHARS:
        att.text = att.text[:budgets.MAX_BODY_CHARS]
        att.problem = att.problem or Problem(TRUNCATED, f"De tekst van de bijlage {_name(att)} is "
                                             f"ingekort tot de eerste {thousands(budgets.MAX_BODY_CHARS)} tekens.")
    return att


def _name(att: Attachment) -> str:
    name = (att.filename or "zonder naam").replace("'", "")
    return f"'{name[:80]}'"


def refuse(att: Attachment, reason: str) -> None:
    """Record a budget or safety refusal; `reason` completes 'De bijlage 'x' is niet gelezen: …'."""
    att.problem = Problem(ATTACHMENT_REFUSED, f"De bijlage {_name(att)} is niet gelezen: {reason}.")


def unreadable(att: Attachment, reason: str) -> None:
    att.problem = Problem(ATTACHMENT_UNREADABLE, f"De bijlage {_name(att)} kon niet worden gelezen: {reason}.")


def cut(att: Attachment, reason: str) -> None:
    att.problem = att.problem or Problem(TRUNCATED, f"Van de bijlage {_name(att)} is niet alles gelezen: {reason}.")


def _reader_for(name: str, ctype: str, data: bytes):
    ext = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if ext == "csv" or ctype in {"text/csv", "text/comma-separated-values"}:
        return read_csv
    if ext in {"xlsx", "xlsm"} or "spreadsheetml" in ctype:
        return read_xlsx
    if ext == "xls" or ctype == "application/vnd.ms-excel":
        if data[:2] == b"PK":
            return read_xlsx
        return read_xls if data[:4] == b"\xd0\xcf\x11\xe0" else read_csv
    if ext == "docx" or "wordprocessingml" in ctype:
        return read_docx
    if ext == "pdf" or ctype == "application/pdf":
        return read_pdf
    if ext in {"odt", "ods"} or "opendocument" in ctype:
        return read_odf
    if ext == "msg" or ctype == "application/vnd.ms-outlook":
        return read_outlook_msg
    if name.lower() == "winmail.dat" or ctype == "application/ms-tnef":
        return read_tnef
    if ext in {"txt", "text"} or ctype == "text/plain":
        return read_plain_text
    return None


def _kind_name(reader) -> str:
    return reader.__name__.removeprefix("read_").replace("_", " ")


# --- spreadsheets ----------------------------------------------------------------

def read_xlsx(data: bytes, att: Attachment) -> None:
    if not _zip_is_safe(data, att):
        return
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            _add_table(att, f"Blad: {sheet.title}", _budgeted_rows(att, sheet.iter_rows(values_only=True)))
    finally:
        book.close()


def _budgeted_rows(att: Attachment, rows) -> list[list[str]]:
    """Rows as text cells, at most budgets.MAX_TABLE_ROWS rows and MAX_TABLE_CELLS cells."""
    out, cells = [], 0
    for row in rows:
        if len(out) >= budgets.MAX_TABLE_ROWS or cells + len(row) > budgets.MAX_TABLE_CELLS:
            att.error = att.error or (f"only the first {len(out)} rows of a table were read")
            cut(att, f"alleen de eerste {thousands(len(out))} rijen van een tabel zijn gelezen")
            break
        cells += len(row)
        out.append([cell_text(v) for v in row])
    return out


def read_xls(data: bytes, att: Attachment) -> None:
    import xlrd

    book = xlrd.open_workbook(file_contents=data, on_demand=True)
    for sheet in book.sheets():
        rows = ([_xls_cell(book, sheet.cell(r, c)) for c in range(sheet.ncols)] for r in range(sheet.nrows))
        _add_table(att, f"Blad: {sheet.name}", _budgeted_rows(att, rows))


def _xls_cell(book, cell) -> str:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return cell_text(xlrd.xldate_as_datetime(cell.value, book.datemode))
        except Exception:  # noqa: BLE001 — impossible date serials stay numbers
            return cell_text(cell.value)
    return cell_text(cell.value)


def read_csv(data: bytes, att: Attachment) -> None:
    text = decode_guess(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
        delimiter = dialect.delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        delimiter = ";" if first.count(";") >= first.count(",") else ","
    rows = _budgeted_rows(att, csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"'))
    _add_table(att, f"Bestand: {att.filename or 'csv'}", [[c.strip() for c in r] for r in rows])


def cell_text(value) -> str:
    """A cell value as a string: dates as ISO yyyy-mm-dd, whole floats without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _add_table(att: Attachment, title: str, rows: list[list[str]], key_value: bool = False) -> None:
    """Rows keyed by the header row; also appended to `text` as readable lines.

    Title lines above the header (a single filled cell) are kept in the text only.
    A two-column Word table of labels and values (key_value) becomes one record.
    """
    rows = [r for r in rows if any(c.strip() for c in r)]
    lines = [title]
    if key_value and _is_label_value(rows):
        record = {_clean_key(r[0], i): r[1] for i, r in enumerate(rows)}
        att.tables.append([record])
        lines += [f"{k}: {v}" for k, v in record.items()]
        att.text = _append(att.text, "\n".join(lines))
        return
    start = _header_index(rows)
    lines += [" ".join(c for c in r if c.strip()) for r in rows[:start]]
    if start >= len(rows):
        att.text = _append(att.text, "\n".join(lines))
        return
    header = _header_keys(rows[start])
    table: Table = []
    for row in rows[start + 1:]:
        record = {header[i]: row[i] if i < len(row) else "" for i in range(len(header))}
        for extra in range(len(header), len(row)):
            if row[extra].strip():
                record[f"kolom {extra + 1}"] = row[extra]
        table.append(record)
        lines.append("; ".join(f"{k}: {v}" for k, v in record.items() if v.strip()))
    att.tables.append(table)
    att.text = _append(att.text, "\n".join(lines))


def _header_index(rows: list[list[str]]) -> int:
    """The first row with at least half as many filled cells as the fullest row (min. 2)."""
    counts = [sum(1 for c in r if c.strip()) for r in rows]
    need = max(2, (max(counts, default=0) + 1) // 2)
    return next((i for i, n in enumerate(counts) if n >= need), 0)


def _is_label_value(rows: list[list[str]]) -> bool:
    if len(rows) < 3 or any(len([c for c in r if c.strip()]) > 2 or len(r) < 2 for r in rows):
        return False
    labels = [r[0].strip() for r in rows]
    return len(set(labels)) == len(labels) and all(
        0 < len(label) <= 40 and not label.replace(".", "").isdigit() for label in labels)


def _clean_key(cell: str, i: int) -> str:
    return re.sub(r"\s+", " ", cell).strip().rstrip(":") or f"kolom {i + 1}"


def _header_keys(cells: list[str]) -> list[str]:
    keys: list[str] = []
    for i, cell in enumerate(cells):
        key = re.sub(r"\s+", " ", cell).strip() or f"kolom {i + 1}"
        while key in keys:
            key += f" ({i + 1})"
        keys.append(key)
    return keys


def _append(text: str, more: str) -> str:
    return f"{text}\n\n{more}" if text else more


# --- documents ---------------------------------------------------------------------

def read_docx(data: bytes, att: Attachment) -> None:
    if not _zip_is_safe(data, att):
        return
    import docx
    from docx.table import Table as DocxTable

    document = docx.Document(io.BytesIO(data))
    blocks = document.iter_inner_content() if hasattr(document, "iter_inner_content") else \
        [*document.paragraphs, *document.tables]
    parts: list[str] = []
    for n, block in enumerate(blocks):
        if isinstance(block, DocxTable):
            saved, att.text = att.text, ""
            _add_table(att, f"Tabel {len(att.tables) + 1}",
                       _budgeted_rows(att, ([c.text.strip() for c in _unique_cells(r)] for r in block.rows)),
                       key_value=True)
            parts.append(att.text)
            att.text = saved
        elif block.text.strip():
            parts.append(block.text.strip())
    att.text = "\n".join(parts)


def _unique_cells(row):
    """Merged cells repeat in python-docx; keep each cell once."""
    seen, cells = set(), []
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            cells.append(cell)
    return cells


def read_pdf(data: bytes, att: Attachment) -> None:
    import pypdf

    with quiet_logger("pypdf"):
        _read_pdf_pages(pypdf.PdfReader(io.BytesIO(data)), att)


def _read_pdf_pages(reader, att: Attachment) -> None:
    if reader.is_encrypted and not reader.decrypt(""):
        att.error = "not read: the PDF is password-protected"
        unreadable(att, "de PDF is beveiligd met een wachtwoord")
        return
    pages, limit = reader.pages, budgets.MAX_PDF_PAGES
    texts = [(pages[i].extract_text() or "").strip() for i in range(min(len(pages), limit))]
    att.text = "\n\n".join(t for t in texts if t)
    if len(pages) > limit:
        att.error = f"only the first {limit} of {len(pages)} pages were read"
        cut(att, f"alleen de eerste {limit} van de {len(pages)} pagina's zijn gelezen")
    elif not att.text:
        att.error = "the PDF has no text layer (scanned?); no text read"
        unreadable(att, "de PDF bevat geen tekst (gescand?)")


_ODF = "{urn:oasis:names:tc:opendocument:xmlns:%s:1.0}"


def read_odf(data: bytes, att: Attachment) -> None:
    """.odt/.ods without odfpy: paragraphs and table rows straight from content.xml."""
    if not _zip_is_safe(data, att):
        return
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ElementTree.fromstring(archive.read("content.xml"))
    text_ns, table_ns = _ODF % "text", _ODF % "table"
    is_text = root.find(f".//{_ODF % 'office'}text") is not None   # .odt, not .ods
    parts = []
    for elem in root.iter():
        if elem.tag == table_ns + "table":
            rows = [[_odf_text(c) for c in _odf_cells(r, table_ns)]
                    for r in elem.iter(table_ns + "table-row")]
            saved, att.text = att.text, ""
            _add_table(att, f"Tabel: {elem.get(table_ns + 'name', '')}", rows, key_value=is_text)
            parts.append(att.text)
            att.text = saved
        elif elem.tag in (text_ns + "p", text_ns + "h") and not _inside_table(elem, root, table_ns):
            if _odf_text(elem):
                parts.append(_odf_text(elem))
    att.text = "\n".join(parts)


def _odf_cells(row, table_ns):
    cells = []
    for cell in row:
        if cell.tag in (table_ns + "table-cell", table_ns + "covered-table-cell"):
            repeat = min(int(cell.get(table_ns + "number-columns-repeated", "1")), 50)
            cells.extend([cell] * repeat)
    return cells


def _odf_text(elem) -> str:
    return " ".join("".join(elem.itertext()).split())


def _inside_table(elem, root, table_ns) -> bool:
    parents = getattr(root, "_vng_parents", None)
    if parents is None:
        parents = {c: p for p in root.iter() for c in p}
        root._vng_parents = parents  # type: ignore[attr-defined]
    node = parents.get(elem)
    while node is not None:
        if node.tag == table_ns + "table":
            return True
        node = parents.get(node)
    return False


def _zip_is_safe(data: bytes, att: Attachment) -> bool:
    """Refuse zip bombs by inflating every member for real, in chunks, counting what comes out:
    the sizes the zip directory declares are never trusted (a bomb lies about them), and
    inflating stops as soon as the real count passes budgets.MAX_INFLATED_BYTES. A member
    whose real size differs from the declared one is refused too, so the readers after this
    (which trust the directory) never unpack more than was counted here."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
        if len(members) > budgets.MAX_ZIP_MEMBERS:
            return _refuse_zip(att, f"more than {budgets.MAX_ZIP_MEMBERS} members",
                               f"meer dan {thousands(budgets.MAX_ZIP_MEMBERS)} onderdelen")
        total = 0
        for info in members:
            size = _inflated_size(data, info, budgets.MAX_INFLATED_BYTES - total)
            if size is None:
                return _refuse_zip(att, f"would unpack to more than {budgets.MAX_INFLATED_BYTES} bytes, "
                                   "over the limit", f"uitgepakt groter dan {megabytes(budgets.MAX_INFLATED_BYTES)}")
            if size != info.file_size:
                return _refuse_zip(att, "the sizes in its zip directory are false (zip bomb?)",
                                   "de grootte die het bestand opgeeft klopt niet (mogelijk een zip-bom)")
            total += size
    except (zipfile.BadZipFile, zlib.error, struct.error, ValueError, NotImplementedError) as exc:
        att.error = f"not read: not a valid zip/Office file ({type(exc).__name__})"
        unreadable(att, "het bestand is beschadigd")
        return False
    ratio = total / max(len(data), 1)
    if total > budgets.ZIP_RATIO_MIN_BYTES and ratio > budgets.MAX_ZIP_RATIO:
        return _refuse_zip(att, f"compression ratio {ratio:.0f} is over {budgets.MAX_ZIP_RATIO} (zip bomb?)",
                           f"uitgepakt meer dan {budgets.MAX_ZIP_RATIO} keer zo groot (mogelijk een zip-bom)")
    return True


def _refuse_zip(att: Attachment, why: str, reason: str) -> bool:
    att.error = f"not read: {why}"
    refuse(att, reason)
    return False


_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CHUNK = 64 * 1024


def _inflated_size(data: bytes, info: zipfile.ZipInfo, budget: int) -> int | None:
    """The real size of one member (None once it passes `budget`), read from its local header
    on: neither the declared sizes nor the compressed size are used."""
    header = _LOCAL_HEADER.unpack_from(data, info.header_offset)
    if header[0] != 0x04034B50:
        raise zipfile.BadZipFile("bad local header")
    start = info.header_offset + _LOCAL_HEADER.size + header[9] + header[10]
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size if info.compress_size <= budget else None
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise NotImplementedError("compression method")
    inflater, size, pos = zlib.decompressobj(-15), 0, start
    pending = b""
    while not inflater.eof:
        if not pending:
            if pos >= len(data):
                break
            pending, pos = data[pos:pos + _CHUNK], pos + _CHUNK
        size += len(inflater.decompress(pending, _CHUNK))
        pending = inflater.unconsumed_tail
        if size > budget:
            return None
    return size


# --- mail containers and plain text ----------------------------------------------

def read_outlook_msg(data: bytes, att: Attachment) -> None:
    """Outlook .msg: read with extract_msg if it is installed; otherwise refused."""
    try:
        import extract_msg  # type: ignore[import-not-found]
    except ImportError:
        att.error = "not read: Outlook .msg attachments need the extract_msg package (not installed)"
        unreadable(att, "Outlook-berichten (.msg) kunnen nog niet worden gelezen")
        return
    with extract_msg.Message(io.BytesIO(data)) as msg:
        header = f"Van: {msg.sender}\nDatum: {msg.date}\nOnderwerp: {msg.subject}"
        att.text = f"{header}\n\n{msg.body or ''}".strip()


def read_tnef(data: bytes, att: Attachment) -> None:
    """TNEF (winmail.dat): body and attachment names if tnefparse is installed."""
    try:
        import tnefparse  # type: ignore[import-not-found]
    except ImportError:
        att.error = "not read: TNEF (winmail.dat) needs the tnefparse package (not installed)"
        unreadable(att, "winmail.dat-bestanden kunnen nog niet worden gelezen")
        return
    tnef = tnefparse.TNEF(data)
    body = tnef.body or b""
    att.text = decode_guess(body) if isinstance(body, bytes) else str(body)
    names = [a.long_filename() or a.name for a in tnef.attachments]
    if names:
        att.text = _append(att.text, "Bijlagen in winmail.dat: " + ", ".join(map(str, names)))
    if not att.text.strip():
        att.error = "winmail.dat holds no readable text"
        unreadable(att, "er staat geen leesbare tekst in")


def read_plain_text(data: bytes, att: Attachment) -> None:
    att.text = decode_guess(data).strip()


@contextlib.contextmanager
def quiet_logger(name: str):
    """Silence a chatty library logger for one call; what matters goes into `errors`."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def decode_guess(data: bytes) -> str:
    """Undeclared text: utf-8 (with or without BOM) first, else windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
