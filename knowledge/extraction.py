"""Text out of uploaded files, per type, with page numbers where the format has pages.

Every way a file can be unusable (damaged, password-protected, empty, scanned
images only) raises ``ExtractionError`` with a message meant for the person who
uploaded it; the ingestion marks the document failed with that message.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile

from knowledge.chunking import PageText
from meetpilot.errors import Unprocessable

logging.getLogger("pypdf").setLevel(logging.ERROR)


class ExtractionError(Unprocessable):
    """The file cannot be turned into text; ``str(exc)`` is shown to the user."""

    code = "extraction_failed"


def size_label(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)} KB"


def decode_text(data: bytes) -> str:
    """Decode a text file: BOMs first, then UTF-8, then Windows-1252 (never fails)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _clean(text: str) -> str:
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = re.sub(r"[ \t\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _unwrap_lines(text: str) -> str:
    """PDF text breaks lines inside sentences: join them, keep paragraph breaks."""
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # hyphenation at a line end
    return re.sub(r"(?<!\n)\n(?!\n)", " ", text)


# --- per type -----------------------------------------------------------------------------


def extract_pdf(data: bytes) -> list[PageText]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Many PDFs are encrypted with an empty user password (permissions only): those open.
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError, FileNotDecryptedError):
                opened = 0
            if not opened:
                raise ExtractionError("This PDF is protected with a password. Remove the password and upload it "
                                      "again.")
        page_objects = list(reader.pages)
    except ExtractionError:
        raise
    except FileNotDecryptedError as exc:
        raise ExtractionError("This PDF is protected with a password. Remove the password and upload it "
                              "again.") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            OSError, AssertionError) as exc:
        raise ExtractionError("This PDF is damaged or is not a valid PDF file, so its text cannot be read.") from exc
    if not page_objects:
        raise ExtractionError("This PDF has no pages.")

    pages: list[PageText] = []
    has_images = False
    for number, page in enumerate(page_objects, start=1):
        try:
            text = page.extract_text() or ""
        except Exception:  # one broken page should not lose the others
            text = ""
        pages.append(PageText(number=number, text=_clean(_unwrap_lines(_clean(text)))))
        if not text.strip() and not has_images:
            has_images = _page_has_images(page)
    if not any(p.text for p in pages):
        if has_images:
            raise ExtractionError("This PDF contains only scanned images and no selectable text. Text recognition "
                                  "(OCR) is not supported: upload a PDF with real text, or run OCR on it first.")
        raise ExtractionError("This PDF contains no text.")
    return pages


def _page_has_images(page) -> bool:
    try:
        resources = page.get("/Resources") or {}
        resources = resources.get_object() if hasattr(resources, "get_object") else resources
        xobjects = resources.get("/XObject") or {}
        xobjects = xobjects.get_object() if hasattr(xobjects, "get_object") else xobjects
        return any(xobjects[name].get_object().get("/Subtype") == "/Image" for name in xobjects)
    except Exception:
        return False


def docx_unpacked_size(data: bytes) -> int | None:
    """Total uncompressed size of a DOCX (a zip), or None when it is not a readable zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def extract_docx(data: bytes, *, max_unpacked: int) -> list[PageText]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    unpacked = docx_unpacked_size(data)
    if unpacked is None:
        raise ExtractionError("This Word document is damaged or is not a valid .docx file.")
    if unpacked > max_unpacked:
        raise ExtractionError(f"This Word document unpacks to {size_label(unpacked)}, over the "
                              f"{size_label(max_unpacked)} limit.")
    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        for element in document.element.body.iterchildren():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "p":
                text = Paragraph(element, document).text
                if text.strip():
                    blocks.append(text)
            elif tag == "tbl":
                table = Table(element, document)
                for row in table.rows:
                    cells = [cell.text.strip() for cell in row.cells]
                    # merged cells repeat: keep each distinct cell once, in order
                    seen: list[str] = []
                    for cell in cells:
                        if cell and (not seen or seen[-1] != cell):
                            seen.append(cell)
                    if seen:
                        blocks.append(" | ".join(seen))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, AttributeError, TypeError) as exc:
        raise ExtractionError("This Word document is damaged or is not a valid .docx file.") from exc
    except Exception as exc:  # lxml parse errors and friends
        if exc.__class__.__module__.startswith(("lxml", "docx")):
            raise ExtractionError("This Word document is damaged or is not a valid .docx file.") from exc
        raise
    text = _clean("\n".join(blocks))
    if not text:
        raise ExtractionError("This Word document contains no text.")
    return [PageText(number=None, text=text)]


def extract_csv(data: bytes) -> list[PageText]:
    raw = decode_text(data)
    sample = raw[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(raw), dialect) if any(cell.strip() for cell in row)]
    if not rows:
        raise ExtractionError("This CSV file contains no rows.")
    header = [cell.strip() for cell in rows[0]]
    try:
        has_header = csv.Sniffer().has_header(sample)
    except csv.Error:
        has_header = True
    body = rows[1:] if has_header else rows
    if not has_header:
        header = [f"Column {i + 1}" for i in range(max(len(r) for r in rows))]
    lines = []
    for row in body:
        parts = []
        for i, cell in enumerate(row):
            cell = cell.strip()
            if cell:
                name = header[i] if i < len(header) and header[i] else f"Column {i + 1}"
                parts.append(f"{name}: {cell}")
        if parts:
            # One row, one line that reads like a sentence.
            lines.append("; ".join(parts) + ".")
    text = _clean("\n".join(lines))
    if not text:
        raise ExtractionError("This CSV file contains a header but no data rows.")
    return [PageText(number=None, text=text)]


_HTML_DROP = ["script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas", "head",
              "form", "button", "select", "input", "textarea", "nav"]
_HTML_BLOCKS = ["p", "div", "section", "article", "header", "footer", "aside", "main", "li", "ul", "ol", "dl", "dt",
                "dd", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "pre", "blockquote", "figure",
                "figcaption", "address", "hr"]


def html_to_text(raw: str) -> tuple[str, str]:
    """Visible text and the <title> of an HTML page; scripts, styles and markup never survive."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(_HTML_DROP):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(["td", "th"]):
        tag.insert_after(" | ")
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text("")
    text = re.sub(r"\s*\|\s*\n", "\n", text)
    return _clean(text), title


def extract_html(data: bytes) -> list[PageText]:
    text, _title = html_to_text(decode_text(data))
    if not text:
        raise ExtractionError("This HTML page contains no visible text.")
    return [PageText(number=None, text=text)]


def markdown_to_text(raw: str) -> str:
    text = re.sub(r"^\s*(```|~~~).*$", "", raw, flags=re.MULTILINE)  # code fence markers
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)  # images -> alt text
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links -> their text
    text = re.sub(r"<[^>\n]+>", "", text)  # inline HTML
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text, flags=re.MULTILINE)  # heading markers
    text = re.sub(r"^\s*[-*_]{3,}\s*$", "", text, flags=re.MULTILINE)  # rules
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)", r"\1", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    return text


def extract_text_file(data: bytes, *, markdown: bool = False) -> list[PageText]:
    raw = decode_text(data)
    text = _clean(markdown_to_text(raw) if markdown else raw)
    if not text:
        raise ExtractionError("This file contains no text.")
    return [PageText(number=None, text=text)]


def extract(data: bytes, doc_type: str, *, max_docx_unpacked: int) -> list[PageText]:
    """The pages of text in ``data``; raises ExtractionError when there is nothing usable."""
    if not data:
        raise ExtractionError("The file is empty.")
    if doc_type == "pdf":
        return extract_pdf(data)
    if doc_type == "docx":
        return extract_docx(data, max_unpacked=max_docx_unpacked)
    if doc_type == "csv":
        return extract_csv(data)
    if doc_type == "html":
        return extract_html(data)
    if doc_type in ("txt", "md"):
        return extract_text_file(data, markdown=doc_type == "md")
    raise ExtractionError(f"Files of type {doc_type!r} are not supported.")
