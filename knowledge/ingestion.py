"""Upload checks: what a file is, judged by its content, its extension and its size.

A file is accepted only when its bytes agree with its extension (a PDF named
.txt, or an image named .pdf, is refused) and it is within the size limits (for
DOCX also the unpacked size, so a zip bomb never reaches the parser). Files that
pass but turn out unreadable (damaged, password-protected, no text) are caught
later by the extraction and end as ``failed`` documents with a message.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from typing import IO

from knowledge.extraction import size_label as _mb
from meetpilot.errors import DomainError

EXTENSIONS: dict[str, str] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
}
ACCEPT_ATTRIBUTE = ",".join(EXTENSIONS)

_BINARY_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a media file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.doc/.xls) or a password-protected Office file"),
    (b"ID3", "an audio file"),
    (b"OggS", "an audio file"),
    (b"fLaC", "an audio file"),
]


class UploadRejected(DomainError):
    """The upload is refused before anything is stored (400, or 413 too large, 415 wrong type)."""

    def __init__(self, *, code: str, message: str, status: int = 400) -> None:
        super().__init__(message, code=code)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class CheckedFile:
    type: str
    size: int
    sha256: str




def sniff(head: bytes) -> str:
    """What the first bytes say the file is: pdf, zip, text, or a description of a binary."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    for signature, description in _BINARY_SIGNATURES:
        if head.startswith(signature):
            return description
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NULs but a BOM says so
        return "text"
    if b"\x00" in head:
        return "binary data"
    return "text"


def _is_docx(file: IO[bytes]) -> tuple[bool, int | None]:
    """(looks like a Word document, total unpacked size) without decompressing anything."""
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return True, None  # a damaged archive: let the extraction report it as damaged
    finally:
        file.seek(0)
    return "word/document.xml" in names, unpacked


def upload_check(*, filename: str, file: IO[bytes], size: int, max_bytes: int, max_docx_unpacked: int) -> CheckedFile:
    """Accept or refuse one uploaded file; returns its type, size and SHA-256."""
    extension = os.path.splitext(filename or "")[1].lower()
    doc_type = EXTENSIONS.get(extension)
    if doc_type is None:
        raise UploadRejected(code="unsupported_type", status=415,
                             message=f"{filename}: this file type is not supported. Upload PDF, Word (.docx), "
                                     "text, Markdown, CSV or HTML files.")
    if size <= 0:
        raise UploadRejected(code="empty_file", message=f"{filename}: the file is empty.")
    if size > max_bytes:
        raise UploadRejected(code="too_large", status=413,
                             message=f"{filename}: {_mb(size)} is over the {_mb(max_bytes)} limit for one file.")
    file.seek(0)
    head = file.read(4096)
    found = sniff(head)
    expected = {"pdf": "pdf", "docx": "zip"}.get(doc_type, "text")
    if found != expected:
        label = {"pdf": "a PDF", "docx": "a Word (.docx) document"}.get(doc_type, "a text file")
        what = {"pdf": "a PDF", "zip": "a zip archive", "text": "plain text"}.get(found, found)
        raise UploadRejected(code="content_mismatch", status=415,
                             message=f"{filename}: the name says {label}, but the content is {what}.")
    if doc_type == "docx":
        is_word, unpacked = _is_docx(file)
        if not is_word:
            raise UploadRejected(code="content_mismatch", status=415,
                                 message=f"{filename}: this zip archive is not a Word document.")
        if unpacked is not None and unpacked > max_docx_unpacked:
            raise UploadRejected(code="too_large", status=413,
                                 message=f"{filename}: the document unpacks to {_mb(unpacked)}, over the "
                                         f"{_mb(max_docx_unpacked)} limit.")
    digest = hashlib.sha256()
    file.seek(0)
    read = 0
    for block in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(block)
        read += len(block)
        if read > max_bytes:  # the declared size lied
            raise UploadRejected(code="too_large", status=413,
                                 message=f"{filename}: over the {_mb(max_bytes)} limit for one file.")
    file.seek(0)
    return CheckedFile(type=doc_type, size=read, sha256=digest.hexdigest())
