"""Bytes to text: UTF-8 (with or without BOM), UTF-16/32 with a BOM, or a plausible legacy
encoding; binary files refused; line-oriented files decoded line by line.

Text that is not valid UTF-8 is tried in legacy single-byte encodings (Windows
Western European, Cyrillic, Arabic; KOI8-R) and accepted only when the result looks
like real text in one script (see ``_plausible_decoding``); otherwise it is reported.
JSONL and CSV are decoded line by line, so one bad line does not garble the others.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from typing import Iterator

from . import records
from .records import InputError, too_large

# How much of a file is checked for binary content. Binary formats (PDF, images,
# archives, Office files) show NUL bytes or control codes within the first blocks.
BINARY_SNIFF_BYTES = 8192
# Share of C0 control bytes (other than tab, newline, CR, form feed) above which a
# file is binary. Real text has none; 5% leaves room for a few stray codes.
BINARY_CONTROL_SHARE = 0.05

# Legacy encodings tried, in order, for text that is not UTF-8. Western European
# first: it is by far the most common legacy encoding in news archives.
LEGACY_ENCODINGS = ("cp1252", "cp1251", "koi8_r", "cp1256")


def read_whole_file(
    path: str, display: str, limit: int | None = None, per: str = "one article"
) -> bytes | InputError:
    limit = limit or records.MAX_ARTICLE_BYTES
    size = os.stat(path).st_size
    if size > limit:
        return InputError(too_large(size, "file", limit, per), path=display)
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew since stat
        return InputError(too_large(len(data), "file", limit, per), path=display)
    return data


def decode_document(data: bytes, display: str, declared: str | None = None) -> str | InputError:
    """Decode a whole file, after ruling out binary content."""
    unicode_bom = _unicode_bom(data)
    if unicode_bom:
        try:
            return data.decode(unicode_bom)
        except UnicodeDecodeError as error:
            return InputError(f"invalid {unicode_bom.upper()} at byte {error.start}", path=display)
    if _looks_binary(data):
        return InputError("binary file, not text (NUL bytes or control codes)", path=display)
    text = decode_text(data, declared)
    if text is None:
        return InputError(_undecodable(data), path=display)
    return text



def decode_text(data: bytes, declared: str | None = None) -> str | None:
    """Decode bytes as UTF-8 (BOM dropped), a declared charset, or a plausible legacy
    encoding; ``None`` when nothing gives believable text."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    candidates = list(LEGACY_ENCODINGS)
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            name = None
        if name and name not in ("utf-8", "utf-8-sig"):
            candidates.insert(0, name)
    for encoding in dict.fromkeys(candidates):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):  # LookupError: "hex", "base64" are no text
            continue
        if _plausible_decoding(text):
            return text
    return None


# The most frequent lowercase letters of the scripts legacy encodings are tried
# for. Text decoded with the wrong code page scatters its letters over the whole
# alphabet (or into another case), so these make up far less of it.
_COMMON_LETTERS = {
    "cyrillic": frozenset("оеаинтсрвлкмдпу"),
    "arabic": frozenset("اليمونهرتبعدكفسق"),
}
# Only this much of a text is inspected: enough to judge, cheap for big files.
PLAUSIBILITY_SAMPLE_CHARS = 65536
# Non-ASCII symbols that are not letters and not ordinary typography (box drawing,
# maths signs) may be at most this share of the non-ASCII characters.
MAX_ODD_SYMBOL_SHARE = 0.1
_TEXT_SYMBOLS = frozenset("\u00a0«»“”‘’„‚‹›–—―…•·€£¥¢©®™°§¶×÷¿¡±µ¼½¾¹²³ªº¦¨¯´¸¬­\u2009\u202f")
_C1_CONTROLS = re.compile("[\x80-\x9f]")
# Share of a script's letters that must be common ones (real text: ~70%).
MIN_COMMON_LETTER_SHARE = 0.4
# Latin text: at most this share of letters may be non-ASCII (French ~4%, Czech
# ~15%); Cyrillic or Arabic bytes read as cp1252 give ~100%.
MAX_ACCENTED_LATIN_SHARE = 0.3


def _plausible_decoding(text: str) -> bool:
    """Does a legacy decoding look like real text in one script?"""
    if _C1_CONTROLS.search(text):  # C1 controls: the wrong code page
        return False
    sample = text[:PLAUSIBILITY_SAMPLE_CHARS]
    counts = {"ascii": 0, "latin": 0, "cyrillic": 0, "arabic": 0, "other": 0}
    common = {"cyrillic": 0, "arabic": 0}
    symbols = 0
    for ch in sample:
        if ch < "\x80":
            if ch.isalpha():
                counts["ascii"] += 1
            continue
        if not ch.isalpha():
            if ch not in _TEXT_SYMBOLS:
                symbols += 1  # box drawing, maths, odd signs: bytes read in the wrong code page
            continue
        script = _legacy_script(ch)
        counts[script] += 1
        if script in common and ch in _COMMON_LETTERS[script]:
            common[script] += 1
    non_ascii = counts["latin"] + counts["cyrillic"] + counts["arabic"] + counts["other"]
    if symbols > MAX_ODD_SYMBOL_SHARE * (non_ascii + symbols):
        return False
    if non_ascii == 0:
        return True
    dominant = max(("latin", "cyrillic", "arabic", "other"), key=counts.__getitem__)
    if dominant == "other" or counts[dominant] < 0.9 * non_ascii:
        return False  # mixed scripts inside one text: a sure sign of the wrong code page
    if dominant == "latin":
        return counts["latin"] <= MAX_ACCENTED_LATIN_SHARE * (counts["latin"] + counts["ascii"])
    return common[dominant] >= MIN_COMMON_LETTER_SHARE * counts[dominant]


def _legacy_script(ch: str) -> str:
    code = ord(ch)
    if code <= 0x024F:
        return "latin"
    if 0x0400 <= code <= 0x052F:
        return "cyrillic"
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    return "other"


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _unicode_bom(data: bytes) -> str | None:
    """``utf-16``/``utf-32`` when the data starts with such a BOM (UTF-32 checked first:
    its little-endian BOM begins with the UTF-16 one)."""
    return next((name for bom, name in _BOMS if data.startswith(bom)), None)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def _looks_binary(data: bytes) -> bool:
    sample = data[:BINARY_SNIFF_BYTES]
    if b"\x00" in data:
        return True
    if not sample:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > BINARY_CONTROL_SHARE * len(sample)


_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def looks_binary_text(text: str) -> bool:
    sample = text[:BINARY_SNIFF_BYTES]
    if "\x00" in text:
        return True
    return len(_CONTROL_CHARS.findall(sample)) > BINARY_CONTROL_SHARE * len(sample)


def _undecodable(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return (
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}) and no "
            f"legacy encoding ({', '.join(LEGACY_ENCODINGS)}) gives plausible text; "
            "convert it to UTF-8"
        )
    return "cannot decode text"


def iter_lines(path: str, display: str) -> Iterator[tuple[int, str, InputError | None]]:
    """(line number, decoded line, problem) for a line-oriented file.

    Each line is decoded on its own (UTF-8, else a plausible legacy encoding), so a
    file that mixes encodings loses only its bad lines. Lines over
    ``records.MAX_ARTICLE_BYTES`` are skipped without being held in memory.
    """
    with open(path, "rb") as handle:
        head = handle.read(BINARY_SNIFF_BYTES)
        handle.seek(0)
        unicode_bom = _unicode_bom(head)
        if unicode_bom:
            yield from _iter_wide_lines(handle, unicode_bom, display)
            return
        if _looks_binary(head):
            yield 1, "", InputError(
                "binary file, not text (NUL bytes or control codes)", path=display
            )
            return
        for line_number, raw in enumerate(_physical_lines(handle), start=1):
            if raw is None:
                yield line_number, "", InputError(
                    too_large(None, "line"), path=display, line=line_number
                )
                continue
            if line_number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if b"\x00" in raw:
                yield line_number, "", InputError(
                    "NUL bytes in line (binary data?)", path=display, line=line_number
                )
                continue
            text = decode_text(raw)
            if text is None:
                yield line_number, "", InputError(_undecodable(raw), path=display, line=line_number)
                continue
            yield line_number, text, None


def _physical_lines(handle) -> Iterator[bytes | None]:
    """Lines ending in LF, CRLF or a lone CR (classic Mac, e.g. Excel's "CSV (Macintosh)")."""
    for raw in _bounded_lines(handle):
        if raw is not None and b"\r" in raw[:-2]:
            yield from raw.splitlines(keepends=True)
        else:
            yield raw


def _iter_wide_lines(
    handle, encoding: str, display: str
) -> Iterator[tuple[int, str, InputError | None]]:
    stream = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline="")
    line_number = 0
    try:
        for line_number, line in enumerate(stream, start=1):
            if len(line) > records.MAX_ARTICLE_BYTES:
                yield line_number, "", InputError(
                    too_large(None, "line"), path=display, line=line_number
                )
                continue
            yield line_number, line, None
    except UnicodeDecodeError:
        yield line_number + 1, "", InputError(
            f"invalid {encoding.upper()}; the rest of the file was not read",
            path=display,
            line=line_number + 1,
        )
    finally:
        stream.detach()


def _bounded_lines(handle) -> Iterator[bytes | None]:
    """Lines of a binary file; ``None`` for a line over the limit (read past, not kept).

    A file whose lines end in lone CRs reads as one long "line" up to the limit: its
    lines are cut out of it here, so a big file of short ones is not refused."""
    pending = b""  # the unfinished last line of such a stretch
    while True:
        line = pending + handle.readline(records.MAX_ARTICLE_BYTES + 1)
        pending = b""
        if not line:
            return
        too_long = len(line) > records.MAX_ARTICLE_BYTES and not line.endswith(b"\n")
        if too_long and b"\r" in line:
            *complete, pending = line.split(b"\r")
            yield from (piece + b"\r" for piece in complete)
            if len(pending) > records.MAX_ARTICLE_BYTES:  # a line over the limit
                pending = b""
                yield None
            continue
        if too_long:
            while True:
                chunk = handle.readline(1 << 20)
                if not chunk or chunk.endswith(b"\n"):
                    break
            yield None
            continue
        yield line
