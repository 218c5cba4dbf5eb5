"""Turning values into safe, typed spreadsheet cells.

Text in the workbook comes from e-mails. A cell string that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return could be read as a formula by Excel or by whatever the data is pasted or
exported into (CSV injection). Following OWASP, such text gets a leading apostrophe: it becomes
visibly inert text in every program, also after export to CSV. openpyxl itself only makes a formula
of strings starting with ``=``; every string cell is also forced to data type ``s``. Phone numbers
in E.164 form (``+31612345678``) hold nothing but digits and are left alone.

Characters XML cannot hold (control characters from broken mail) are removed, and text is cut to
Excel's cell limit.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"\+?[0-9][0-9 ]*\Z")
MAX_CELL_TEXT = 32767

DATE_FORMAT = "dd-mm-yyyy"
DATETIME_FORMAT = "dd-mm-yyyy hh:mm"
NUMBER_FORMAT = "#,##0"


def safe_text(value: str) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.match(text):
        text = "'" + text
    return text[:MAX_CELL_TEXT]


def cell_value(value: Any) -> Any:
    """A value openpyxl stores with the right type: numbers as numbers, dates as dates, text neutralised."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:     # NaN
        return None
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, (int, float, date, datetime)):
        return value
    if hasattr(value, "item"):                          # numpy scalar
        return cell_value(value.item())
    return safe_text(str(value))


def number_format_for(value: Any) -> str | None:
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    if isinstance(value, int) and not isinstance(value, bool):
        return NUMBER_FORMAT
    return None
