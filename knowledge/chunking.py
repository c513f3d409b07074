"""Split extracted text into ~1000-character chunks with ~200 characters of overlap.

Chunks end on sentence (or line) boundaries and never cross a page; a sentence
longer than a chunk is cut at word boundaries. Offsets are positions in the
document's full extracted text (pages joined by a blank line), and each chunk
carries its page number (None for formats without pages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PAGE_SEPARATOR = "\n\n"

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace; a line break
# always ends a unit (CSV rows, list items, headings).
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*\s+|\n+")
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "prof", "e.g", "i.e", "vs", "etc", "inc", "ltd", "no", "fig", "st",
                  "approx", "dept", "est", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
                  "nov", "dec"}


@dataclass(frozen=True)
class PageText:
    number: int | None
    text: str


@dataclass
class TextChunk:
    text: str
    position: int
    start_char: int
    end_char: int
    page: int | None = None
    metadata: dict = field(default_factory=dict)


def join_pages(pages: list[PageText]) -> tuple[str, list[int], list[int | None]]:
    """The document's full text, the offset where each page starts, and the page numbers."""
    parts, starts, numbers = [], [], []
    offset = 0
    for page in pages:
        if parts:
            parts.append(PAGE_SEPARATOR)
            offset += len(PAGE_SEPARATOR)
        starts.append(offset)
        numbers.append(page.number)
        parts.append(page.text)
        offset += len(page.text)
    return "".join(parts), starts, numbers


_LIST_OR_HEADING = re.compile(r"[-*•#>|]|\d+[.)]\s")


def _wrapped_line(text: str, newline_at: int, next_at: int) -> bool:
    """A single line break inside a sentence of hard-wrapped prose (not a list item, row or heading)."""
    line_start = text.rfind("\n", 0, newline_at) + 1
    line = text[line_start:newline_at].rstrip()
    if len(line) < 50 or line[-1:] in ".!?:;":
        return False
    return not _LIST_OR_HEADING.match(text, next_at)


def sentence_spans(text: str, max_len: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0

    def add(a: int, b: int) -> None:
        # Trim whitespace so offsets point at real text.
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a >= b:
            return
        while b - a > max_len:  # a "sentence" longer than a chunk: cut at the last space that fits
            cut = text.rfind(" ", a + max_len // 2, a + max_len)
            cut = cut if cut > a else a + max_len
            spans.append((a, cut))
            a = cut
            while a < b and text[a].isspace():
                a += 1
        if a < b:
            spans.append((a, b))

    for match in _BOUNDARY.finditer(text):
        if match.group(0) == "\n" and _wrapped_line(text, match.start(), match.end()):
            continue
        if match.group(0)[0] == ".":
            word = re.search(r"([A-Za-z.]+)$", text[start : match.start()])
            if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
                continue
            if match.start() > 0 and text[match.start() - 1].isdigit() and match.end() < len(text) \
                    and text[match.end()].isdigit():
                continue
        add(start, match.end())
        start = match.end()
    add(start, len(text))
    return spans


def chunk_text(
    pages: list[PageText], *, chunk_size: int = 1000, overlap: int = 200
) -> list[TextChunk]:
    """Chunks of at most ``chunk_size`` characters, consecutive ones sharing up to ``overlap``.

    A chunk never spans two pages, so the page a passage is cited with is exact.
    """
    text, page_starts, _numbers = join_pages(pages)
    chunks: list[TextChunk] = []
    for page_text, start_at in zip(pages, page_starts, strict=True):
        page = page_text.number
        spans = [(a + start_at, b + start_at) for a, b in sentence_spans(page_text.text, chunk_size)]
        i = 0
        while i < len(spans):
            j = i + 1
            while j < len(spans) and spans[j][1] - spans[i][0] <= chunk_size:
                j += 1
            start, end = spans[i][0], spans[j - 1][1]
            chunks.append(TextChunk(text=text[start:end], position=len(chunks), start_char=start, end_char=end,
                                    page=page))
            if j >= len(spans):
                break
            # Start the next chunk with the trailing sentences that fit in the overlap.
            k = j
            while k - 1 > i and spans[j - 1][1] - spans[k - 1][0] <= overlap:
                k -= 1
            i = k if k < j else j
    return chunks
