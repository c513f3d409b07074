"""Text extraction per type, upload sniffing and chunking (no database)."""

import io
import itertools

import pytest

from knowledge.chunking import PageText, chunk_text, sentence_spans
from knowledge.extraction import ExtractionError, decode_text, extract
from knowledge.ingestion import UploadRejected, sniff, upload_check
from tests.knowledge.files import make_docx, make_docx_bomb, make_pdf, make_zip

MAX = 100 * 1024 * 1024


def run(data: bytes, kind: str) -> str:
    return "\n\n".join(p.text for p in extract(data, kind, max_docx_unpacked=MAX))


def test_pdf_pages_keep_their_numbers():
    pages = extract(make_pdf(["First page (intro).", "Second page: prices."]), "pdf", max_docx_unpacked=MAX)
    assert [(p.number, p.text) for p in pages] == [(1, "First page (intro)."), (2, "Second page: prices.")]


def test_docx_paragraphs_and_tables_in_order():
    text = run(make_docx(["Title", "Intro paragraph."], table=[["Name", "Role"], ["Ana", "CTO"]]), "docx")
    assert text == "Title\nIntro paragraph.\nName | Role\nAna | CTO"


def test_docx_bomb_is_refused_before_parsing():
    with pytest.raises(ExtractionError, match="unpacks to"):
        extract(make_docx_bomb(3 * 1024 * 1024), "docx", max_docx_unpacked=1024 * 1024)


def test_csv_rows_read_as_sentences():
    text = run(b"name;city;seats\nInitech;Austin;120\nHooli;;300\n", "csv")
    assert text.splitlines() == ["name: Initech; city: Austin; seats: 120.", "name: Hooli; seats: 300."]


def test_html_is_stripped_safely():
    html = (b"<html><head><title>T</title><script>steal()</script><style>p{}</style></head><body>"
            b"<nav>Menu</nav><h1>Policy</h1><p>Refunds take <em>10 days</em>.<br>Really.</p>"
            b"<img src=x onerror=alert(1)><iframe src='http://evil'></iframe><ul><li>One</li><li>Two</li></ul>"
            b"</body></html>")
    text = run(html, "html")
    assert "steal" not in text and "p{}" not in text and "Menu" not in text and "alert" not in text
    assert "<" not in text and ">" not in text
    assert "Policy" in text and "Refunds take 10 days." in text and "One\n\nTwo" in text.replace("\n\n\n", "\n\n")


def test_markdown_and_text():
    assert run(b"## Plan\n\nShip **v2** via [the pipeline](http://ci).\n", "md") == "Plan\n\nShip v2 via the pipeline."
    assert run("Caf\u00e9 cr\u00e8me".encode("cp1252"), "txt") == "Caf\u00e9 cr\u00e8me"
    assert decode_text("hello".encode("utf-16")) == "hello"
    assert decode_text("\ufeffhello".encode()) == "hello"
    with pytest.raises(ExtractionError):
        run(b"  \n\t ", "txt")


@pytest.mark.parametrize(("head", "expected"), [
    (b"%PDF-1.7\n", "pdf"), (b"PK\x03\x04rest", "zip"), (b"\x89PNG\r\n", "a PNG image"), (b"hello", "text"),
    (b"\xff\xfeh\x00i\x00", "text"), (b"ab\x00cd", "binary data"),
])
def test_sniff(head, expected):
    assert sniff(head) == expected


def test_upload_check_hashes_and_types():
    data = make_docx(["Hello"])
    checked = upload_check(filename="x.DOCX", file=io.BytesIO(data), size=len(data), max_bytes=MAX,
                           max_docx_unpacked=MAX)
    assert checked.type == "docx" and checked.size == len(data) and len(checked.sha256) == 64
    with pytest.raises(UploadRejected) as excinfo:
        upload_check(filename="x.docx", file=io.BytesIO(make_zip()), size=200, max_bytes=MAX, max_docx_unpacked=MAX)
    assert excinfo.value.code == "content_mismatch"
    with pytest.raises(UploadRejected) as excinfo:
        upload_check(filename="x.exe", file=io.BytesIO(b"MZ"), size=2, max_bytes=MAX, max_docx_unpacked=MAX)
    assert excinfo.value.status == 415


def test_sentences():
    text = "Dr. Smith joined in Jan. 2024. Revenue grew 3.5% in Q3! Did it? Yes.\nNew line item"
    spans = [text[a:b] for a, b in sentence_spans(text, 1000)]
    assert spans == ["Dr. Smith joined in Jan. 2024.", "Revenue grew 3.5% in Q3!", "Did it?", "Yes.",
                     "New line item"]
    wrapped = ("This sentence was hard-wrapped by an editor at a fixed width\nand continues on the next line. "
               "Next one.")
    assert next(wrapped[a:b] for a, b in sentence_spans(wrapped, 1000)).endswith("next line.")


def test_chunks_overlap_on_sentence_boundaries_and_keep_offsets():
    sentences = [f"Sentence number {i} talks about topic {i % 7} in some detail." for i in range(120)]
    pages = [PageText(1, " ".join(sentences[:70])), PageText(2, " ".join(sentences[70:]))]
    full = pages[0].text + "\n\n" + pages[1].text
    chunks = chunk_text(pages, chunk_size=1000, overlap=200)
    assert len(chunks) >= 8
    for chunk in chunks:
        assert len(chunk.text) <= 1000
        assert full[chunk.start_char : chunk.end_char] == chunk.text
        assert chunk.text.startswith("Sentence number") and chunk.text.endswith(".")
        assert chunk.page == (1 if chunk.end_char <= len(pages[0].text) else 2)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    for a, b in itertools.pairwise(chunks):
        if a.page == b.page:
            overlap = a.end_char - b.start_char
            assert 0 < overlap <= 200  # consecutive chunks share whole sentences
        else:
            assert b.start_char > a.end_char  # never across a page


def test_a_sentence_longer_than_a_chunk_is_cut_at_words():
    chunks = chunk_text([PageText(None, "word " * 600)], chunk_size=1000, overlap=200)
    assert len(chunks) >= 3 and all(len(c.text) <= 1000 and not c.text.endswith("wor") for c in chunks)
    assert chunk_text([PageText(None, "")]) == []
