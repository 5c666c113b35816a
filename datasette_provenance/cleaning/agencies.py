"""Finding agency names in text: one pass of trie-shaped regexes over the whole text.

The names and their forms are ``vocabulary.AGENCIES``; this module turns them into
the patterns every cleaning rule uses (``AGENCY_PATTERN``, ``AGENCY_LIST``) and the
scanner that finds every name, and every copyright cue word, in one pass (``scan``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Sequence

from ..vocabulary import (
    AGENCY_ALIASES,
    ARABIC_CLITICS,
    CJK_RANGES,
    MARKER,
    NAME,
    PHOTO,
    AgencyAlias,
    is_cjk,
    script_of,
)

# Not followed by a letter or digit: any word character except CJK, which is
# written without spaces, so "据AFP报道" still has AFP as a word.
_WORD_CHAR_AHEAD = f"(?![^\\W{CJK_RANGES}])"


def is_word_char(char: str) -> bool:
    return (char.isalnum() or char == "_") and not is_cjk(char)


def _alias_tail(alias: str) -> str:
    """What may follow an alias: a word boundary (none for CJK); Cyrillic case endings."""
    script = script_of(alias[-1])
    if script == "cjk":
        return ""
    if script == "cyrillic" and alias[-1].islower():
        return r"(?:[а-яё]{1,3})?" + _WORD_CHAR_AHEAD
    return _WORD_CHAR_AHEAD


def _trie_pattern(words: dict[str, str]) -> str:
    """One regex for many literal words (word -> what must follow it).

    Words whose tail ends in the word-end check get it once, after the whole
    group, instead of once per word: the check holds a large CJK character class
    that costs milliseconds to compile each time it appears, and hundreds of
    copies made importing this module take seconds.
    """
    bounded = {
        word: tail[: -len(_WORD_CHAR_AHEAD)]
        for word, tail in words.items()
        if tail.endswith(_WORD_CHAR_AHEAD)
    }
    free = {word: tail for word, tail in words.items() if word not in bounded}
    parts = []
    if bounded:
        parts.append(f"(?:{_literal_trie(bounded)}){_WORD_CHAR_AHEAD}")
    if free:
        parts.append(_literal_trie(free))
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def _literal_trie(words: dict[str, str]) -> str:
    """Many literal words as a trie: every alternative starts with a distinct
    literal, so the regex engine skips most positions after one character
    (several times faster than a flat alternation). Longer words win."""
    trie: dict = {}
    for word, tail in words.items():
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = tail

    def build(node: dict) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if "" in node:
            branches.append(node[""])  # the word may end here: after the longer ones
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return build(trie)


AGENCY_PATTERN = _trie_pattern({alias: _alias_tail(alias) for alias in AGENCY_ALIASES})
# Several agencies in one credit: "AFP/Reuters", "Reuters and AP", "AFP, Getty Images".
LIST_SEPARATOR = r"\s*(?:/|,|;|&|\band\b|\+|،|؛|、)\s*"
AGENCY_LIST = rf"(?:{AGENCY_PATTERN})(?:{LIST_SEPARATOR}(?:{AGENCY_PATTERN}))*"

# Copyright cue words, found in the same pass over the text as agency names so
# only the lines holding one get a closer look.
_COPYRIGHT_CUES = frozenset(
    variant
    for word in (
        "©",
        "ⓒ",
        "Copyright",
        "All rights reserved",
        "Powered by",
        "Trust Principles",
        "Tous droits réservés",
        "Todos los derechos reservados",
        "Alle Rechte vorbehalten",
        "Все права защищены",
        "جميع الحقوق محفوظة",
        "版权所有",
        "版權所有",
    )
    for variant in (word, word.title(), word.upper())
)


def _build_scanners() -> tuple[tuple[re.Pattern, ...], tuple[str, ...]]:
    """Regexes finding every alias and cue word, plus the words found with str.find.

    The regex engine tests each position's character against the set of first
    letters. Words starting with a lowercase ASCII letter ("dpa") would make it
    stop at a large share of all positions, so they are found with ``str.find``
    instead. ASCII and other first letters go in separate passes: an ASCII-only
    set is a fast bitmap; adding Cyrillic, Arabic and CJK letters makes every test
    a slower big-set lookup (one pass takes ~1.4x the time of both). A pass is two
    regexes, words that must end a word first, then the others (``_leftmost_matches``
    reads them as one alternation): the engine makes that first-letter test only for
    a pattern that is one trie, and one alternation of both tries is tried at every
    position (5-25x slower).
    """
    words = {cue: "" for cue in _COPYRIGHT_CUES}
    words.update({alias: _alias_tail(alias) for alias in AGENCY_ALIASES})
    found_by_find = tuple(word for word in words if "a" <= word[0] <= "z")
    passes = []
    for ascii_first in (True, False):
        scanned = {
            word: tail
            for word, tail in words.items()
            if word not in found_by_find and (word[0] < "\x80") == ascii_first
        }
        bounded = {word: tail for word, tail in scanned.items() if tail.endswith(_WORD_CHAR_AHEAD)}
        free = {word: tail for word, tail in scanned.items() if word not in bounded}
        passes.append(tuple(re.compile(_trie_pattern(part)) for part in (bounded, free) if part))
    return tuple(passes), found_by_find


_SCAN_PASSES, _FOUND_BY_FIND = _build_scanners()
# First characters of the words the second (non-ASCII) pass looks for: a text with
# none of them, such as any ASCII text, skips that pass (it is the slower one).
_NON_ASCII_FIRST = frozenset(
    word[0] for word in (*_COPYRIGHT_CUES, *AGENCY_ALIASES) if word[0] >= "\x80"
)


@dataclass(slots=True)
class Hit:
    start: int
    end: int
    agency: str
    strength: str  # vocabulary.NAME, CODE, MARKER or PHOTO
    used: bool = False

    @property
    def weak(self) -> bool:
        """Not a distinctive name: counts only in a credit position (or, for a code, beside
        a reporting word)."""
        return self.strength != NAME

    @property
    def marker_only(self) -> bool:
        """An ordinary word ("Online") or a photo-only code: never counts from context."""
        return self.strength in (MARKER, PHOTO)


def _resolve_alias(matched: str) -> AgencyAlias | None:
    alias = AGENCY_ALIASES.get(matched)
    if alias is None:  # a Cyrillic case ending: "Интерфаксу"
        for cut in (1, 2, 3):
            alias = AGENCY_ALIASES.get(matched[:-cut])
            if alias is not None:
                break
    return alias


def _leftmost_matches(
    patterns: Sequence[re.Pattern], text: str, start: int, end: int
) -> Iterator[re.Match]:
    """The matches ``re.finditer`` of the alternation of ``patterns`` would give (at one
    position an earlier pattern wins), from each pattern's own search."""
    upcoming = [pattern.search(text, start, end) for pattern in patterns]
    while True:
        found = [(match, pattern) for match, pattern in zip(upcoming, patterns) if match]
        if len(found) <= 1:  # one pattern left: its own matches, at finditer's speed
            for match, pattern in found:
                yield match
                yield from pattern.finditer(text, match.end(), end)
            return
        first = min(found, key=lambda pair: pair[0].start())[0]  # earlier pattern wins a tie
        yield first
        # A match starting at or after this one's end is the one a new search would find.
        position = first.end()
        upcoming = [
            match if match is None or match.start() >= position
            else pattern.search(text, position, end)
            for match, pattern in zip(upcoming, patterns)
        ]  # fmt: skip


def _left_boundary_ok(text: str, start: int, alias: AgencyAlias) -> bool:
    if not alias.bounded or start == 0:
        return True
    before = text[start - 1]
    if not is_word_char(before):
        return True
    if alias.arabic and before in ARABIC_CLITICS:  # "لرويترز" = "to Reuters"
        return start == 1 or not is_word_char(text[start - 2])
    return False


def find_agencies(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str]]:
    """Every agency name in ``text[start:end]``: (start, end, canonical name).

    Includes short codes in any position; use ``clean_article`` credits to know
    which mentions are credits.
    """
    return [(hit.start, hit.end, hit.agency) for hit in _agency_hits(text, start, end)]


def _agency_hits(text: str, start: int = 0, end: int | None = None) -> list[Hit]:
    return scan(text, start, end)[0]


def scan(text: str, start: int = 0, end: int | None = None) -> tuple[list[Hit], list[int]]:
    """Agency names (as hits) and the positions of copyright cue words."""
    end = len(text) if end is None else end
    hits: list[Hit] = []
    cues: list[int] = []

    def found(matched: str, position: int) -> None:
        if matched in _COPYRIGHT_CUES:
            cues.append(position)
            return
        alias = _resolve_alias(matched)
        if alias is not None and _left_boundary_ok(text, position, alias):
            hits.append(Hit(position, position + len(matched), alias.agency, alias.strength))

    piece = text[start:end]
    non_ascii = not piece.isascii() and not _NON_ASCII_FIRST.isdisjoint(piece)
    for patterns in _SCAN_PASSES if non_ascii else _SCAN_PASSES[:1]:
        for match in _leftmost_matches(patterns, text, start, end):
            found(match.group(), match.start())
    for word in _FOUND_BY_FIND:
        position = text.find(word, start, end)
        while position >= 0:
            after = position + len(word)
            if after >= len(text) or not is_word_char(text[after]):
                found(word, position)
            position = text.find(word, after, end)
    hits.sort(key=lambda hit: hit.start)
    return hits, cues
