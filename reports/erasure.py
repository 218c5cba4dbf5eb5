"""Erasing expired contact details from workbooks already on disk (``store.retention`` calls this).

A workbook keeps the contacts of the day it was written. When the retention period of a message
ends, every earlier workbook that shows its contact person is rewritten with those values replaced
by "gewist": in each row that shows a name, phone number or e-mail address being erased, those
values and the person's role are replaced; everything else in the workbook stays. A quick look
into the zipped XML first spares opening workbooks that do not contain any of the values.
"""

from __future__ import annotations

import hashlib
import re
from html import escape
from io import BytesIO
from pathlib import Path
from zipfile import BadZipFile, ZipFile

import openpyxl

from reports.files import replace_file
from store.retention import ERASED


def erase_contacts(path: str | Path, identifying: set[str], roles: set[str]) -> str | None:
    """Rewrite the workbook at ``path`` without these contact values; returns its new sha256, or
    None when it does not contain them (or is gone)."""
    path = Path(path)
    if not identifying or not path.is_file() or not _mentions(path, identifying):
        return None
    workbook = openpyxl.load_workbook(path)
    pattern = _pattern(identifying)
    changed = False
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            changed |= erase_in_row(row, pattern, roles)
    if not changed:
        return None
    buffer = BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    replace_file(path, data)
    return hashlib.sha256(data).hexdigest()


def erase_in_row(cells, pattern: re.Pattern, roles: set[str]) -> bool:
    """Replace the values in one row of cells; True when something was replaced."""
    texts = [cell for cell in cells if isinstance(cell.value, str)]
    hits = [cell for cell in texts if pattern.search(cell.value)]
    if not hits:
        return False
    role_pattern = _pattern(roles) if roles else None
    for cell in hits:
        value = pattern.sub(ERASED, cell.value)
        cell.value = role_pattern.sub(ERASED, value) if role_pattern else value
    for cell in texts:
        if cell.value.strip() in roles:
            cell.value = ERASED
    return True


def _pattern(values: set[str]) -> re.Pattern:
    """Any of ``values`` (longest first, so a full name wins over a part of it), case-insensitive."""
    return re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)), re.IGNORECASE)


def _mentions(path: Path, values: set[str]) -> bool:
    """Does any XML part of the workbook contain one of the values (as XML text)?"""
    pattern = _pattern({escape(v, quote=False) for v in values} | values)
    try:
        with ZipFile(path) as archive:
            return any(pattern.search(archive.read(name).decode("utf-8", "replace"))
                       for name in archive.namelist() if name.endswith(".xml"))
    except BadZipFile:
        return False
