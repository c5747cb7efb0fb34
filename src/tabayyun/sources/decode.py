"""Turning raw bytes into text: BOM, declared or HTML meta charset, then detection tuned for Arabic."""

from __future__ import annotations

import codecs
import re
import unicodedata

from charset_normalizer import from_bytes


class DecodeError(ValueError):
    """The item cannot be turned into text; the message is one line meant for the user."""


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = (
    (b"%PDF", "a PDF file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\x7fELF", "an executable"),
    (b"SQLite format 3", "an SQLite database"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_ARABIC = re.compile("[\u0600-\u06ff]")
_LETTER = re.compile(r"[^\W\d_]")
_CONTROL_OK = {"\n", "\r", "\t", "\f", "\v"}


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return (text, encoding name) or raise DecodeError with a one-line reason."""
    if not data.strip():
        raise DecodeError("empty input")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise DecodeError(f"binary content ({what}), not a text or HTML page")
    text, encoding = _decode(data, declared)
    _reject_junk(text)
    return text, encoding


def _decode(data: bytes, declared: str | None) -> tuple[str, str]:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name), name
    utf16 = _sniff_utf16(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:4096]:
        raise DecodeError("binary content (NUL bytes), not a text or HTML page")
    for name in (declared, _meta_charset(data)):
        if name:
            try:
                return data.decode(name), codecs.lookup(name).name
            except (LookupError, UnicodeDecodeError):
                continue
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    return _detect_legacy(data)


def _sniff_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII and Arabic both leave one byte of each pair in a tiny set."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    sample = sample[: len(sample) // 2 * 2]
    even, odd = sample[0::2], sample[1::2]
    high_bytes = {0x00, 0x06, 0x20, 0xFE, 0xFB}

    def share(part: bytes) -> float:
        return sum(1 for b in part if b in high_bytes) / len(part)

    if share(odd) > 0.9 and odd.count(0) + odd.count(6) > len(odd) * 0.5 and share(even) < 0.5:
        return "utf-16-le"
    if share(even) > 0.9 and even.count(0) + even.count(6) > len(even) * 0.5 and share(odd) < 0.5:
        return "utf-16-be"
    return None


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:8192])
    return match.group(1).decode("ascii", "ignore") if match else None


def _detect_legacy(data: bytes) -> tuple[str, str]:
    """Not UTF-8: Windows-1256 first (most Arabic legacy pages), else what charset_normalizer finds."""
    try:
        text = data.decode("cp1256")
    except UnicodeDecodeError:
        text = ""
    if text and _arabic_share(text) >= 0.3:
        return text, "cp1256"
    best = from_bytes(data).best()
    if best is None:
        raise DecodeError("undecodable: not valid UTF-8 and no known encoding fits")
    return str(best), codecs.lookup(best.encoding).name


def _arabic_share(text: str) -> float:
    letters = len(_LETTER.findall(text))
    return len(_ARABIC.findall(text)) / letters if letters else 0.0


def _reject_junk(text: str) -> None:
    sample = text[:20000]
    bad = sum(
        1
        for ch in sample
        if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in _CONTROL_OK)
    )
    if bad > max(8, len(sample) * 0.02):
        raise DecodeError(f"binary or corrupt content ({bad} control or replacement characters)")
    if not any(ch.isalpha() for ch in sample):
        raise DecodeError("no text in input (no letters found)")
