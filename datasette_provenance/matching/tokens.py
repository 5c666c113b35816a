"""Tokens and shingles: Unicode-aware, language-independent.

A token is a run of letters/digits (any script) with its character span in the
text it came from, and a normalised form used for comparison:

* NFKC, then casefold (so full-width, ligatures and case never matter);
* optional marks dropped (Arabic harakat, Hebrew niqqud, Latin accents, the Indic
  nukta), so vowelled and unvowelled spellings match; viramas and kana voicing marks
  are spelling and stay;
* inner dots and apostrophes dropped, so "U.S." and "US" are the same token and
  "Russia's" is one token;
* Arabic-script letter variants folded (Arabic and Persian/Urdu yeh, kaf, heh and
  teh marbuta; alef maksura) and so are the tatweel and the zero-width (non-)joiners
  inside words; digits of every script are ASCII digits.

Every combining mark (Unicode Mn, Mc, Me: Devanagari, Bengali and Tamil vowel signs,
Arabic madda and hamza, ...) and the zero-width (non-)joiner continue the word they
follow, so "दिल्ली" and a decomposed "آباد" are one word each.

Scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer,
Myanmar) are split into single characters, so shingles of several characters
act like word n-grams there.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import xxhash

from .unicode_marks import MARKS

# The rules below are versioned by parameters.TOKENIZER_VERSION: tokens are what
# signatures are made of, so a database signed under other rules is re-signed.

# Letters/digits of any script, continued by combining marks and zero-width joiners,
# allowing inner dots and apostrophes (U.S., Russia's, l'État). Written as an unrolled
# loop (word chars, then punctuation + word chars) rather than an alternation with a
# lookahead per character: same matches, about 1.5x faster.
_CONTINUES = rf"[\w{MARKS}\u200c\u200d]"
_WORD = re.compile(rf"[^\W_]{_CONTINUES}*(?:['’.][^\W_]{_CONTINUES}*)*", re.UNICODE)
_MARK = re.compile(f"[{MARKS}]")
# The same words in ASCII text, which holds no combining mark, joiner or curly quote:
# matching against a small character class is about 1.6x faster than _WORD's.
_ASCII_WORD = re.compile(r"[^\W_]\w*(?:['.][^\W_]\w*)*", re.ASCII)

# Scripts without word spaces: every character is its own token.
_NO_SPACE_SCRIPTS = re.compile(
    "["
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0002ffff"  # CJK extensions B+
    "]"
)
_INNER_PUNCT = re.compile(r"['’.]")


@dataclass(frozen=True, slots=True)
class Token:
    norm: str
    start: int
    end: int


# Spelling variants of one letter across Arabic-script languages (Arabic, Persian, Urdu,
# ...) folded to one form, with the tatweel (a stretching stroke) and the zero-width
# (non-)joiners dropped: the same word typed on an Arabic or an Urdu keyboard matches.
_ARABIC_SCRIPT_FOLDS = str.maketrans(
    {
        "\u064a": "\u06cc",  # ي Arabic yeh -> ی Farsi yeh
        "\u0649": "\u06cc",  # ى alef maksura -> ی
        "\u0643": "\u06a9",  # ك Arabic kaf -> ک keheh
        "\u0647": "\u06c1",  # ه heh -> ہ heh goal
        "\u06d5": "\u06c1",  # ە ae -> ہ
        "\u0629": "\u06c3",  # ة teh marbuta -> ۃ teh marbuta goal
        "\u0640": None,  # tatweel
        "\u200c": None,  # zero-width non-joiner
        "\u200d": None,  # zero-width joiner
    }
)


def normalize_word(word: str) -> str:
    """The comparison form of one word."""
    word = unicodedata.normalize("NFKC", word).casefold()
    word = _INNER_PUNCT.sub("", word)
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    stripped = "".join(_ascii_digit(ch) for ch in decomposed if not _optional_mark(ch))
    return unicodedata.normalize("NFC", stripped).translate(_ARABIC_SCRIPT_FOLDS)


# Canonical combining classes of marks that are spelling, not an optional accent, so
# unlike the other combining marks they are kept: kana voicing marks (べ is not へ) and
# viramas (Devanagari ्, Tamil ்).
_SPELLING_MARK_CLASSES = frozenset((8, 9))


def _optional_mark(char: str) -> bool:
    """An accent, vowel point or nukta: written or left out at the writer's whim."""
    combining = unicodedata.combining(char)
    return combining != 0 and combining not in _SPELLING_MARK_CLASSES


def _ascii_digit(char: str) -> str:
    """A digit of any script as its ASCII digit (٣, ۳, ३ -> 3); other characters unchanged."""
    if char.isascii() or not char.isdecimal():
        return char
    return str(unicodedata.decimal(char))


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Tokens of ``text[start:end]`` with spans into ``text``."""
    tokens: list[Token] = []
    end = len(text) if end is None else end
    if text[max(start, 0) : max(end, 0)].isascii():  # the stretch the regex reads
        # Every match is one token, and _norms gives their norms in the same order.
        spans = [match.span() for match in _ASCII_WORD.finditer(text, start, end)]
        return [Token(norm, s, e) for norm, (s, e) in zip(_norms(text, start, end), spans)]
    for match in _WORD.finditer(text, start, end):
        word = match.group()
        if word.isascii():  # fast path, same result as normalize_word for ASCII
            tokens.append(Token(_normalize_ascii(word), match.start(), match.end()))
            continue
        if _NO_SPACE_SCRIPTS.search(word):
            tokens.extend(_split_unspaced(word, match.start()))
            continue
        if _GLUED_NUMBER.search(word):
            tokens.extend(_split_glued_numbers(word, match.start()))
            continue
        norm = normalize_word(word)
        if norm:
            tokens.append(Token(norm, match.start(), match.end()))
    return tokens


# A number glued to an Arabic-script word ("228رنز", "6وکٹ") is two words: Urdu, Persian
# and Arabic typists often leave the space out after a number, where it is invisible.
_ARABIC_LETTER = "[\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff]"
_GLUED_NUMBER = re.compile(rf"\d{_ARABIC_LETTER}|{_ARABIC_LETTER}\d")
_NUMBER_BOUNDARY = re.compile(rf"(?<=\d)(?={_ARABIC_LETTER})|(?<={_ARABIC_LETTER})(?=\d)")


def _split_glued_numbers(word: str, offset: int) -> Iterable[Token]:
    start = 0
    for boundary in _NUMBER_BOUNDARY.finditer(word):
        yield from _token(word, offset, start, boundary.start())
        start = boundary.start()
    yield from _token(word, offset, start, len(word))


def _normalize_ascii(word: str) -> str:
    """``normalize_word`` for an ASCII word: NFKC is the identity and casefold is lower()."""
    if "'" in word or "." in word:
        word = word.replace("'", "").replace(".", "")
    return word.lower()


# Non-word punctuation common in news text, mapped to characters that tokenize the
# same way, so that a text whose only non-ASCII characters are these takes the ASCII
# path of ``_norms``: the closing quote doubles as an apostrophe (it is one of
# _WORD's inner punctuation marks, like "'"); the rest separate words, like a space.
_TO_ASCII = str.maketrans(
    {"\u2019": "'", **{char: " " for char in "\u00a0\u00ab\u00bb\u2018\u201a\u201c\u201d"
                                              "\u201e\u2013\u2014\u2022\u2026"}}
)
# In ASCII text: an inner apostrophe or dot, the punctuation ``normalize_word`` drops
# (written to start with the mark itself, which the regex engine scans for quickly).
_ASCII_INNER_PUNCT = re.compile(r"['.](?<=\w['.])(?=[^\W_])")
# ASCII bytes: word characters (letters lower-cased, digits, "_") kept, the rest a space.
_ASCII_WORD_BYTES = bytes(
    ord(chr(c).lower()) if chr(c).isalnum() or c == ord("_") else ord(" ") for c in range(128)
) + b" " * 128


def _norms(text: str, start: int, end: int) -> list[str]:
    """``[token.norm for token in tokenize(text, start, end)]`` without building Tokens."""
    start, end = max(start, 0), max(end, 0)  # as the regex path reads them (no wrap-around)
    piece = text[start:end]
    if not piece.isascii():
        piece = piece.translate(_TO_ASCII)
    if piece.isascii():
        # The whole stretch at once: lower-casing and dropping inner punctuation
        # first gives the same words as normalising each word (ASCII NFKC is the
        # identity, casefold is lower(), and a dropped mark only joins the two
        # parts of the word it was inside).
        piece = piece.lower()
        if "'" in piece or "." in piece:
            piece = _ASCII_INNER_PUNCT.sub("", piece)
        # Then a word is a run of word characters, less any leading "_" (_WORD starts
        # a word at a letter or digit): bytes.translate and split instead of a regex.
        found = piece.encode("ascii").translate(_ASCII_WORD_BYTES).decode("ascii").split()
        if "_" in piece:
            found = [word for word in (word.lstrip("_") for word in found) if word]
        return found
    norms: list[str] = []
    for word in _WORD.findall(text, start, end):
        if word.isascii():
            norms.append(_normalize_ascii(word))
        elif _NO_SPACE_SCRIPTS.search(word):
            norms.extend(token.norm for token in _split_unspaced(word, 0))
        elif _GLUED_NUMBER.search(word):
            norms.extend(token.norm for token in _split_glued_numbers(word, 0))
        else:
            norm = normalize_word(word)
            if norm:
                norms.append(norm)
    return norms


def tokenize_ranges(text: str, ranges: Iterable[tuple[int, int]]) -> list[Token]:
    """Tokens of several stretches of ``text`` (e.g. the kept parts of a segment)."""
    tokens: list[Token] = []
    for start, end in ranges:
        tokens.extend(tokenize(text, start, end))
    return tokens


def _split_unspaced(word: str, offset: int) -> Iterable[Token]:
    """Split a word mixing spaced and unspaced scripts: each unspaced char is a token.

    A run between two unspaced chars may be only an inner dot or apostrophe ("北京.说"):
    its norm is empty, and it is no token."""
    run_start = None
    index = 0
    while index < len(word):
        if _NO_SPACE_SCRIPTS.match(word[index]):
            if run_start is not None:
                yield from _token(word, offset, run_start, index)
                run_start = None
            end = index + 1
            while end < len(word) and _MARK.match(word[end]):  # a Thai vowel sign, say
                end += 1
            yield from _token(word, offset, index, end)
            index = end
            continue
        if run_start is None:
            run_start = index
        index += 1
    if run_start is not None:
        yield from _token(word, offset, run_start, len(word))


def _token(word: str, offset: int, start: int, end: int) -> Iterable[Token]:
    norm = normalize_word(word[start:end])
    if norm:
        yield Token(norm, offset + start, offset + end)


def words(text: str) -> list[str]:
    """Normalised words of a text (no spans): what signing needs, 4-5x faster than tokenize."""
    return _norms(text, 0, len(text))


def words_in_ranges(text: str, ranges: Iterable[tuple[int, int]]) -> list[str]:
    """Normalised words of several stretches of ``text`` (``tokenize_ranges`` without spans)."""
    norms: list[str] = []
    for start, end in ranges:
        norms.extend(_norms(text, start, end))
    return norms


def unspaced_mask(norms: Sequence[str]) -> np.ndarray:
    """Which tokens are single characters of a script written without spaces (bool array)."""
    if "".join(norms).isascii():
        return np.zeros(len(norms), dtype=bool)
    unspaced = _NO_SPACE_SCRIPTS.fullmatch
    return np.fromiter((unspaced(norm) is not None for norm in norms), dtype=bool, count=len(norms))


def token_hashes(norms: Sequence[str]) -> np.ndarray:
    """64-bit xxhash of each normalised token (uint64 array)."""
    encoded = map(str.encode, norms)  # UTF-8
    return np.fromiter(map(xxhash.xxh64_intdigest, encoded), dtype=np.uint64, count=len(norms))


# Odd 64-bit multipliers for combining k token hashes into one shingle hash.
_SHINGLE_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
    dtype=np.uint64,
)


def shingle_hashes(hashes: np.ndarray, size: int) -> np.ndarray:
    """Hashes of every run of ``size`` consecutive tokens, vectorised.

    Texts shorter than ``size`` tokens give one shingle of all their tokens, so a
    short text is still comparable.
    """
    if size > len(_SHINGLE_MULTIPLIERS):
        raise ValueError(f"shingle size {size} > {len(_SHINGLE_MULTIPLIERS)}")
    count = len(hashes)
    if count == 0:
        return np.zeros(0, dtype=np.uint64)
    width = min(size, count)
    combined = np.zeros(count - width + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position in range(width):
            combined += hashes[position : count - width + 1 + position] * _SHINGLE_MULTIPLIERS[position]
        # Final avalanche so nearby inputs spread over all bits (splitmix64 finaliser).
        combined ^= combined >> np.uint64(31)
        combined *= np.uint64(0xBF58476D1CE4E5B9)
        combined ^= combined >> np.uint64(29)
    return combined
