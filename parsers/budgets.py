"""Hard limits per message: no input, however large or hostile, makes parsing run away.

Every cut or refusal is recorded on the message as a Problem (parsers.message) with its
reason; the constants are read at call time (``budgets.NAME``), so tests can lower them.
"""

MAX_HEADER_CHARS = 20_000                   # one header's raw value decoded; the rest is cut
MAX_BODY_CHARS = 200_000                    # text of one message (or attachment) handed to extraction
MAX_HTML_CHARS = 2_000_000                  # HTML of one part converted to text; the rest is cut
MAX_HTML_NODES = 100_000                    # elements and text nodes of one HTML part rendered
MAX_TABLE_CELLS = 20_000                    # cells read per table (HTML, spreadsheet sheet, Word, csv)
MAX_TABLE_ROWS = 5_000                      # rows read per sheet or table
MAX_ATTACHMENTS = 20                        # attachments read per message; the rest is refused
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024     # an attachment larger than this is not read at all
MAX_INFLATED_BYTES = 50 * 1024 * 1024       # bytes actually inflated from one zip-based file
MAX_ZIP_MEMBERS = 2_000                     # members of one zip-based file
MAX_ZIP_RATIO = 100                         # inflated/compressed above this: a zip bomb
ZIP_RATIO_MIN_BYTES = 1024 * 1024           # below this inflated size the ratio is harmless
MAX_PDF_PAGES = 50                          # pages of a PDF whose text is read
MAX_OFFERS = 300                            # offers stored per message; the rest goes to a person


def megabytes(count: int) -> str:
    """A byte budget as Dutch readers write it: '50 MB'."""
    return f"{count // (1024 * 1024)} MB"


def thousands(count: int) -> str:
    """A count with a Dutch thousands separator: '200.000'."""
    return f"{count:,}".replace(",", ".")
