"""HTML mail turned into plain text that keeps the layout a reader relies on.

Municipalities often send HTML-only Outlook mail with the locations in a table or a
bulleted list. A tag stripper would glue the cells and items together, so this keeps
one line per paragraph, "- " before list items and one line per table row with the
cells joined by " | ". It also marks where the quoted history starts (Outlook's
divider, Gmail/Apple/Thunderbird blockquotes), because in HTML that boundary is
explicit markup and much more reliable than text patterns.
"""

from __future__ import annotations

import re
import warnings
from itertools import islice

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning, NavigableString, Tag
from bs4.element import PreformattedString

from parsers import budgets

#: Marks the start of quoted history in the produced text; removed before returning.
QUOTE_MARK = "\u2063VNG-QUOTE-START\u2063"

_DROPPED = {"style", "script", "head", "title", "meta", "link", "xml", "noscript", "template"}
_BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "dt", "dd", "pre",
    "blockquote", "address", "center", "form", "fieldset", "figure", "caption",
    "tbody", "thead", "tfoot",
}
_SPACE = re.compile(r"[ \t\r\n\f\u200b]+")
# Break tokens: SOFT ends a block, HARD is a <br>, PARA a paragraph break (blank line).
SOFT, HARD, PARA = "\x1c", "\x1d", "\x1e"
_RUN = re.compile(r"[ \x1c\x1d\x1e]+")   # a run of spaces is left alone in _collapse (linear, no backtracking)
_QUOTE_CLASSES = {"gmail_quote", "moz-cite-prefix", "yahoo_quoted", "OutlookMessageHeader",
                  "protonmail_quote", "zmail_extra"}
_QUOTE_IDS = {"divRplyFwdMsg", "appendonsend", "stopSpelling", "OLK_SRC_BODY_SECTION",
              "x_divRplyFwdMsg", "mail-editor-reference-message-container"}
_HEADER_START = re.compile(r"^\s*(Van|From|De|Von|Fra|Från)\s*:", re.I)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body (quote boundary not marked)."""
    text, _ = html_to_text_with_quote(html)
    return text


def html_to_text_with_quote(html: str, cuts: list[str] | None = None) -> tuple[str, int | None]:
    """Text of an HTML body and the line index where quoted history starts (or None).

    Within budgets: at most budgets.MAX_HTML_NODES tags are parsed and budgets.MAX_TABLE_CELLS
    cells read per table; each cut is described (in English) in `cuts`."""
    cuts = [] if cuts is None else cuts
    html = _within_node_budget(html, cuts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)   # XHTML mail is still HTML
        soup = BeautifulSoup(html, "lxml")
    _mark_quote_start(soup)
    out: list[str] = []
    _render(soup, out, cuts=cuts)
    text = _tidy("".join(out))
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if QUOTE_MARK in line:
            rest = line.replace(QUOTE_MARK, "").strip()
            if rest:
                lines[i] = rest
            else:
                del lines[i]
            return "\n".join(lines).strip("\n"), i
    return text, None


def _within_node_budget(html: str, cuts: list[str]) -> str:
    """The HTML up to its MAX_HTML_NODES-th tag."""
    limit = budgets.MAX_HTML_NODES
    beyond = next(islice(re.finditer("<", html), limit, None), None)
    if beyond is None:
        return html
    cuts.append(f"HTML cut after {limit} tags")
    return html[:beyond.start()]


def _mark_quote_start(soup: BeautifulSoup) -> None:
    """Insert QUOTE_MARK before the first element that opens the quoted history."""
    for tag in soup.find_all(True):
        if _opens_quote(tag):
            tag.insert_before(NavigableString("\n" + QUOTE_MARK + "\n"))
            return


def _opens_quote(tag: Tag) -> bool:
    if tag.get("id") in _QUOTE_IDS:
        return True
    classes = set(tag.get("class") or [])
    if classes & _QUOTE_CLASSES:
        return True
    if tag.name == "blockquote" and (tag.get("type") == "cite" or "gmail_quote" in classes):
        return True
    style = (tag.get("style") or "").replace(" ", "").lower()
    if tag.name == "div" and "border-top:solid" in style:
        return bool(_HEADER_START.match(_leading_text(tag, 40)))
    return False


def _leading_text(tag: Tag, limit: int) -> str:
    """tag.get_text(" ", strip=True)[:limit] without reading the whole subtree."""
    pieces, length = [], 0
    for piece in tag.stripped_strings:
        pieces.append(piece)
        length += len(piece) + 1
        if length > limit:
            break
    return " ".join(pieces)[:limit]


def _render(node, out: list[str], pre: bool = False, cuts: list[str] | None = None) -> None:
    for child in node.children:
        if isinstance(child, PreformattedString):   # comments, doctype, CDATA
            continue
        if isinstance(child, NavigableString):
            out.append(str(child) if pre else _SPACE.sub(" ", str(child)))
            continue
        if not isinstance(child, Tag):
            continue
        _render_tag(child, out, pre, cuts)


def _render_tag(tag: Tag, out: list[str], pre: bool, cuts: list[str] | None) -> None:
    name = (tag.name or "").lower()
    if name in _DROPPED or name == "img":
        return
    if name == "br":
        out.append(HARD)
    elif name == "hr":
        out.append(PARA)
    elif name == "li":
        out.append(SOFT + "- ")
        _render(tag, out, pre, cuts)
        out.append(SOFT)
    elif name == "table":
        out.append(SOFT)
        _render_table(tag, out, cuts)
        out.append(SOFT)
    elif name in _BLOCKS or name == "p":
        _render_block(tag, name, out, pre, cuts)
    elif name == "a" and _hidden_address(tag):
        _render(tag, out, pre, cuts)
        out.append(f" <{_hidden_address(tag)}>")
    else:
        _render(tag, out, pre, cuts)


def _hidden_address(tag: Tag) -> str | None:
    """A mailto: link whose text is a name: the address exists only in the link, so show it."""
    href = str(tag.get("href") or "")
    if not href.lower().startswith("mailto:"):
        return None
    address = href[7:].split("?")[0].strip()
    return address if "@" in address and address.lower() not in tag.get_text().lower() else None


def _render_block(tag: Tag, name: str, out: list[str], pre: bool, cuts: list[str] | None) -> None:
    """A block on its own lines; an empty block (<p>&nbsp;</p>, <div><br></div>) is a blank line."""
    inner: list[str] = []
    _render(tag, inner, pre or name == "pre", cuts)
    content = "".join(inner)
    if not content.replace("\u00a0", " ").strip(" " + SOFT + HARD + PARA):
        out.append(PARA)
        return
    mso = "MsoNormal" in (tag.get("class") or [])
    edge = PARA if name == "p" and not mso else SOFT
    out.extend([edge, content, edge])


def _render_table(table: Tag, out: list[str], cuts: list[str] | None) -> None:
    """One line per data row; layout tables (nested tables, single cells) as blocks.
    At most budgets.MAX_TABLE_CELLS cells per table are read."""
    read = 0
    for row in _rows(table):
        cells = row.find_all(["td", "th"], recursive=False)
        read += len(cells)
        if read > budgets.MAX_TABLE_CELLS:
            if cuts is not None:
                cuts.append(f"HTML table cut after {budgets.MAX_TABLE_CELLS} cells")
            return
        rendered = [_rendered(c, cuts) for c in cells]        # once: nested tables would double per level
        texts = [_cell_text(parts) for parts in rendered]
        filled = [t for t in texts if t.strip()]
        if any(c.find("table") for c in cells) or len(filled) <= 1:
            for parts in rendered:
                out.extend([SOFT, *parts, SOFT])
        else:
            out.append(SOFT + " | ".join(t.replace("\n", ", ") for t in texts) + SOFT)


def _rows(table: Tag) -> list[Tag]:
    rows = []
    for child in table.children:
        if isinstance(child, Tag) and child.name == "tr":
            rows.append(child)
        elif isinstance(child, Tag) and child.name in {"tbody", "thead", "tfoot"}:
            rows.extend(c for c in child.children if isinstance(c, Tag) and c.name == "tr")
    return rows


def _rendered(node: Tag, cuts: list[str] | None = None) -> list[str]:
    out: list[str] = []
    _render(node, out, cuts=cuts)
    return out


def _cell_text(rendered: list[str]) -> str:
    return re.sub(r"\n+", "\n", _tidy("".join(rendered)))


def _collapse(run: re.Match) -> str:
    """A run of break tokens becomes one line break, or a blank line for paragraphs."""
    s = run.group(0)
    if not (SOFT in s or HARD in s or PARA in s):
        return s
    if PARA in s:
        return "\n\n"
    return "\n" * max(1 if SOFT in s else 0, min(s.count(HARD), 2))


def _tidy(text: str) -> str:
    """Resolve break tokens, strip each line, keep at most one blank line in a row."""
    text = _RUN.sub(_collapse, text.replace("\u00a0", " "))
    lines = [line.strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip("\n")
