"""The character encoding of a CSV file: declared (``extract.encoding``) or detected, never silently garbled.

Hospitals export CSV files in the encoding of their system and of the spreadsheet that saved them:

* UTF-8, with or without a byte-order mark (BOM), "CSV UTF-8" in Excel;
* UTF-16 with a BOM, Excel's "Unicode text" (tab-separated), and without one (a NUL byte beside every ASCII one);
* CP949 (its subset EUC-KR), as Korean hospital systems and Korean Excel write it;
* cp1252 (Western Windows, "CSV" in a Western Excel) and Latin-1 (ISO 8859-1).

:func:`decode_csv_bytes` decodes a file: with the declared encoding (undecodable bytes become U+FFFD, which the
validator reports cell by cell, and a note names the encoding the bytes do read as), or by detection: a BOM, then
UTF-8 (strict), then UTF-8 with a few undecodable bytes when the file is mostly UTF-8 text, then CP949 against
cp1252 scored by what each makes of the non-ASCII text (Hangul syllables for CP949; accented letters inside Latin
words for cp1252), Latin-1 last. A guess the scores do not settle comes with a warning naming the encoding chosen
and the key to set.
"""
from __future__ import annotations

import codecs
import itertools
import re
from dataclasses import dataclass

__all__ = ["DecodedText", "decode_csv_bytes", "utf16_without_bom"]

_EVIDENCE = 4  # fewer non-ASCII characters than this do not tell CP949 from cp1252 with confidence
_MOSTLY_UTF8 = 10  # valid UTF-8 characters per undecodable byte above which a file is UTF-8 with a few bad bytes


@dataclass(frozen=True)
class DecodedText:
    """A file's text and how it was decoded.

    Attributes
    ----------
    text : str
        The decoded text (a BOM removed); U+FFFD where bytes did not decode.
    encoding : str
        The codec used (``utf-8``, ``utf-16``, ``cp949``, ``cp1252``, ``latin-1`` or the declared one).
    note : str or None
        A warning for the author: the guess was uncertain, or bytes did not decode (naming the key to set).
    """

    text: str
    encoding: str
    note: str | None = None


def utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when ``head`` looks like UTF-16 text without a BOM (NUL beside every ASCII
    byte), else None."""
    pairs = len(head) // 2
    if pairs < 4:
        return None
    even, odd = head[0:2 * pairs:2].count(0), head[1:2 * pairs:2].count(0)
    if odd >= 0.4 * pairs and even <= 0.02 * pairs:
        return "utf-16-le"
    if even >= 0.4 * pairs and odd <= 0.02 * pairs:
        return "utf-16-be"
    return None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SCORED = 10_000  # non-ASCII characters scored: enough to tell the encodings apart in any file


def _non_ascii(text: str) -> list[int]:
    """Positions of the first :data:`_SCORED` non-ASCII characters."""
    return [match.start() for match in itertools.islice(_NON_ASCII.finditer(text), _SCORED)]


def _is_common_hangul(char: str) -> bool:
    """A Hangul syllable or jamo of KS X 1001 (EUC-KR), which Korean text is made of; the rarer syllables CP949
    adds (two bytes, the second possibly an ASCII letter) are what a stray byte before a letter decodes to."""
    if not ("\uac00" <= char <= "\ud7a3" or "\u3131" <= char <= "\u318e"):
        return False
    try:
        char.encode("euc-kr")
    except UnicodeEncodeError:
        return False
    return True


def _korean_score(text: str | None) -> float:
    """Share of the non-ASCII characters that are common Hangul (:func:`_is_common_hangul`)."""
    if text is None:
        return 0.0
    positions = _non_ascii(text)
    if not positions:
        return 0.0
    return sum(_is_common_hangul(text[i]) for i in positions) / len(positions)


def _latin_score(text: str | None) -> float:
    """Share of the non-ASCII characters that are letters beside an ASCII letter (``Hôpital``, ``Müller``)."""
    if text is None:
        return 0.0
    positions = _non_ascii(text)
    if not positions:
        return 0.0

    def beside_ascii_letter(i: int) -> bool:
        return any(0 <= j < len(text) and text[j].isascii() and text[j].isalpha() for j in (i - 1, i + 1))

    return sum(text[i].isalpha() and beside_ascii_letter(i) for i in positions) / len(positions)


def _detect_legacy(data: bytes) -> DecodedText:
    """CP949 against cp1252 (Latin-1 last) for bytes that are not UTF-8."""
    korean_text, western_text = _strict(data, "cp949"), _strict(data, "cp1252")
    korean, latin = _korean_score(korean_text), _latin_score(western_text)
    if korean_text is not None and korean >= latin and korean > 0:
        chosen, other, score, other_score = "cp949", "cp1252", korean, latin
    elif western_text is not None:
        chosen, other, score, other_score = "cp1252", "cp949", latin, korean
    else:
        return DecodedText(data.decode("latin-1"), "latin-1",
                           "the file is neither UTF-8, CP949 nor cp1252 text; it was read as latin-1, which reads any "
                           "byte: check the non-ASCII text, or set extract.encoding")
    text = korean_text if chosen == "cp949" else western_text
    evidence = len(_non_ascii(text))
    uncertain = (other_score >= 0.5 or score < 0.5 or evidence < _EVIDENCE) and (
        (korean_text if other == "cp949" else western_text) is not None)
    note = None
    if uncertain:
        other_text = korean_text if other == "cp949" else western_text
        note = (f"the file is not UTF-8; its encoding was guessed as {chosen} ({_describe(chosen)}), but it reads as "
                f"{other} ({_describe(other)}) too: its first non-ASCII text reads {_first_run(text)!r} as {chosen} "
                f"and {_first_run(other_text)!r} as {other}; if the text looks wrong, set extract.encoding: {other}")
    return DecodedText(text, chosen, note)


def _first_run(text: str) -> str:
    """The first run of non-ASCII characters of ``text`` (at most 20), to show what a decoding makes of it."""
    match = re.search(r"[^\x00-\x7f]+", text)
    return match.group(0)[:20] if match else ""


def _describe(encoding: str) -> str:
    return {"cp949": "Korean, CP949/EUC-KR", "cp1252": "Western, Windows-1252", "latin-1": "ISO 8859-1",
            "utf-8": "Unicode", "utf-16": "Unicode, Excel's 'Unicode text'"}.get(encoding, encoding)


def detect_encoding(data: bytes) -> DecodedText:
    """Decode bytes of an undeclared encoding (see the module docstring)."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
        return DecodedText(text, "utf-8", _undecodable_note(text, "utf-8"))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
        return DecodedText(text, "utf-16", _undecodable_note(text, "utf-16"))
    bare_utf16 = utf16_without_bom(data[:65536])
    if bare_utf16 is not None:
        text = data.decode(bare_utf16, errors="replace")
        return DecodedText(text, bare_utf16, f"the file was read as {bare_utf16.upper()} (UTF-16 without a "
                                             "byte-order mark); if its text looks wrong, set extract.encoding")
    strict = _strict(data, "utf-8")
    if strict is not None:
        return DecodedText(strict, "utf-8")
    replaced = data.decode("utf-8", errors="replace")
    undecodable = replaced.count("\ufffd")
    valid = len(replaced) - len(replaced.encode("ascii", "ignore")) - undecodable  # non-ASCII characters decoded
    if valid >= _MOSTLY_UTF8 * undecodable:
        return DecodedText(replaced, "utf-8", _undecodable_note(replaced, "utf-8"))
    return _detect_legacy(data)


def _undecodable_note(text: str, encoding: str, reads_as: str | None = None) -> str | None:
    """What to say when ``text`` holds U+FFFD: the bytes that did not decode, and the encoding the whole file
    reads as (``reads_as``) when there is one."""
    count = text.count("\ufffd")
    if not count:
        return None
    fix = (f"the whole file reads as {reads_as} ({_describe(reads_as)}): set extract.encoding: {reads_as}"
           if reads_as else "set extract.encoding if the whole file is in another encoding")
    return (f"{count} byte sequence{'s' if count > 1 else ''} of the file {'are' if count > 1 else 'is'} not "
            f"{encoding} text (shown as \ufffd in the cells concerned): correct those cells, or {fix}")


def decode_csv_bytes(data: bytes, declared: str = "auto") -> DecodedText:
    """Decode a CSV file's bytes with the declared encoding, or detect it (``"auto"``).

    Returns
    -------
    DecodedText
        The text, the encoding and a note for the author (an uncertain guess; bytes the declared encoding does
        not read, with the encoding they do read as).
    """
    if declared == "auto":
        return detect_encoding(data)
    codec = codecs.lookup(declared).name
    text = data.decode("utf-8-sig" if codec == "utf-8" else declared, errors="replace")
    reads_as = None
    if "\ufffd" in text:
        detected = detect_encoding(data)
        if detected.encoding != codec and "\ufffd" not in detected.text:
            reads_as = detected.encoding
    return DecodedText(text, declared, _undecodable_note(text, declared, reads_as))
