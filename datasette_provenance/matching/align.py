"""Passage alignment: which stretches of one text reappear in another, and how.

Pure functions over strings. Each side is tokenised over its kept ranges (the
parts of a segment not removed as boilerplate or credit lines), so every passage
carries character spans into the *raw* texts. Three kinds of evidence are found,
in this order:

1. **Copies** - seed-and-extend local alignment, as passim and textreuse do:
   shared word n-grams are anchors, anchors on one diagonal become exact runs,
   runs close to each other are chained across small gaps, and a word-level
   Levenshtein diff inside each chain separates verbatim stretches from edited
   ones and records every edit ("U.S." -> "US", "metre" -> "meter").
2. **Quotations** - overlap lying inside quotation marks (any style or script)
   on both sides is kept apart: two reporters quoting one speaker is not reuse.
3. **Paraphrases** - sentences are compared by weighted content-word overlap,
   the weights coming from the two texts themselves (a word found in many of
   their sentences, such as a name the story is about or a function word,
   weighs little). An order-preserving alignment of the sentences (dynamic
   programming over similarity above a background level) measures reuse: a
   rewrite follows its source sentence after sentence, while same-story
   independent reporting matches a few scattered sentences at best. Linked
   sentences not already explained by a copy become paraphrase passages; two
   renderings of one quote (say, two translations) become quotation passages.

Nothing here is tuned for one language: the same settings serve any script.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
from rapidfuzz.distance import Indel, Levenshtein

from ..vocabulary import PASSAGE_KINDS
from . import budget
from .statements import statement_tokens
from .tokens import Token, shingle_hashes, token_hashes, tokenize, unspaced_mask

# --- Copy detection -------------------------------------------------------------
# Anchors are shared runs of this many tokens. Four words rarely repeat by chance
# across two texts, yet a light edit every fifth word still leaves anchors.
ANCHOR_SIZE = 4
# An n-gram found more often than this in either text ("in the end of") cannot
# tell one place from another; it is no anchor (exact runs still extend over it).
MAX_ANCHOR_OCCURRENCES = 4
# Runs of the same chain may be this many tokens apart on each side: enough to
# bridge a rewritten phrase or a dropped clause, not a sentence of new text.
MAX_BRIDGE_GAP = 15
# A chain counts as copied text only with this many identical tokens: a full
# clause, more than a stock phrase ("the United Nations Security Council").
MIN_COPY_TOKENS = 8
# Edits closer than this many unchanged tokens belong to one edited passage.
EDIT_JOIN_TOKENS = 4
# Unchanged tokens kept either side of an edit, so the edited passage reads.
EDIT_CONTEXT_TOKENS = 2
# Unchanged stretches shorter than this between edits are part of the edit.
MIN_VERBATIM_TOKENS = 6
# A shared quotation is at least this many quoted tokens (a phrase, not a word).
MIN_QUOTE_RUN_TOKENS = 5
# Words outside the quotes that two reports of one long quote may share (its framing),
# as a share of the quoted words; more and the stretch is a copy of the report.
QUOTE_FRAME_SHARE = 0.2

# --- Paraphrase detection ------------------------------------------------------
# Words longer than this are compared by their first letters only, a crude
# stemmer that works in most alphabets ("discussed"/"discussion", "ракеты"/"ракета").
STEM_PREFIX = 5
# A term is informative when at most this share of all sentences (both texts)
# contain it: names the story is about and function words are not.
INFORMATIVE_DF_SHARE = 0.25
# Two sentences about the same subject, written independently, reach about this
# weighted Dice similarity; only similarity above it is evidence of reuse. (On the
# Clough-Stevenson answers, the best match of an independent answer's sentence
# averages 0.15-0.24 against the source; rewritten sentences 0.26 and up.)
SENTENCE_BACKGROUND_SIMILARITY = 0.15
# A sentence pair is linked only if it shares at least this many informative terms:
# one shared rare word is chance, two start to be a shared fact.
MIN_LINK_INFORMATIVE_TERMS = 2
# A linked pair is shown as a paraphrase passage from this similarity and with
# this many informative terms shared ...
MIN_PARAPHRASE_SIMILARITY = 0.3
MIN_SHARED_INFORMATIVE_TERMS = 3
# ... and a pair out of the text's order only from this higher similarity (a moved
# paragraph is still a paraphrase; a loose match out of order is chance).
MOVED_PARAPHRASE_SIMILARITY = 0.45
# The sentence alignment table is skipped beyond this many cells (about 2,000 x
# 2,000 sentences, far beyond any article): memory stays bounded.
MAX_ALIGNMENT_CELLS = 4_000_000
# Memory the sentence alignment of one pair may take, estimated from the counts before any
# table is made (``sentence_alignment_bytes``, about twice what is measured): two 100 KB
# near-duplicates are estimated at 181 MB (94 MB measured); two 1 MB ones took 5.95 GB and two
# minutes. Beyond it a pair gets its copy passages only (found without the sentence tables).
# A caller's budget may allow less (``budget.alignment_bytes``: the check page's).
MAX_SENTENCE_ALIGNMENT_BYTES = 512 * 1024 * 1024
# A sentence already covered this much by copies or quotations is not re-aligned.
MAX_COVERED_FOR_PARAPHRASE = 0.5
# Both sentences of a paraphrase pair this much inside quotes: a shared quotation
# (possibly translated differently), not a paraphrase.
QUOTED_SENTENCE_SHARE = 0.6
# Sentences shorter than this merge into a neighbour; longer ones are cut.
MIN_SENTENCE_TOKENS = 4
MAX_SENTENCE_TOKENS = 60

# Story similarity counts words of at least this many letters: short words are the
# frequent ones in every language (Zipf), and they make unrelated stories look alike.
STORY_MIN_CHARS = 4

# Word shingles for the exact Jaccard/containment scores.
SHINGLE_SIZE = 5
# Phrasing is compared as word 3-grams: short enough to survive rewording around it,
# long enough that a shared one is wording rather than a shared word.
PHRASING_SIZE = 3

_HAS_DIGIT = re.compile(r"\d")

_TERMINATORS = frozenset(".!?…。！？｡؟۔।॥።፧᙮")
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−", "-"))
_QUOTE_LIKE = str.maketrans(dict.fromkeys("\"“”„‟«»‹›「」『』﹁﹂﹃﹄〝〞〟＂'‘’‚`´", '"'))
_APOSTROPHES = str.maketrans(dict.fromkeys("’‘`´ʼ", "'"))


# ------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Passage:
    """One aligned stretch. Spans are character offsets into the raw texts."""

    kind: str  # verbatim, edited, paraphrase, quotation
    source_start: int
    source_end: int
    derived_start: int
    derived_end: int
    similarity: float
    edits: list[list[str]] = field(default_factory=list)  # [source words, derived words]
    source_tokens: tuple[int, int] = (0, 0)  # token index range, for coverage
    derived_tokens: tuple[int, int] = (0, 0)

    def swapped(self) -> "Passage":
        return Passage(
            self.kind,
            self.derived_start,
            self.derived_end,
            self.source_start,
            self.source_end,
            self.similarity,
            [[new, old] for old, new in self.edits],
            self.derived_tokens,
            self.source_tokens,
        )

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "source_start": self.source_start,
            "source_end": self.source_end,
            "derived_start": self.derived_start,
            "derived_end": self.derived_end,
            "similarity": round(self.similarity, 4),
            "edits": self.edits,
        }


@dataclass
class Alignment:
    passages: list[Passage]
    scores: dict[str, float]

    @property
    def source_containment(self) -> float:
        return self.scores["source_containment"]

    @property
    def derived_containment(self) -> float:
        return self.scores["derived_containment"]

    @property
    def jaccard(self) -> float:
        return self.scores["jaccard"]

    def passages_of(self, kind: str) -> list[Passage]:
        return [passage for passage in self.passages if passage.kind == kind]

    def swapped(self) -> "Alignment":
        """The same alignment seen from the other side (source and derived exchanged)."""
        return Alignment(
            sorted((p.swapped() for p in self.passages), key=_passage_order),
            swap_score_names(self.scores),
        )


def swap_score_names(scores: dict) -> dict:
    """Exchange every ``source_*`` score with its ``derived_*`` twin."""
    swapped = {}
    for name, value in scores.items():
        if name.startswith("source_"):
            name = "derived_" + name[len("source_") :]
        elif name.startswith("derived_"):
            name = "source_" + name[len("derived_") :]
        swapped[name] = value
    return swapped


@dataclass
class PreparedText:
    """One side of an alignment: tokens with spans, quotes, sentences, terms."""

    text: str
    tokens: list[Token]
    norms: list[str]
    surfaces: list[str]  # token as written (apostrophes unified), for edit detection
    quoted: np.ndarray  # bool per token: inside quotation marks
    statement: np.ndarray  # bool per token: quoted, or in a sentence attributing what it says
    names: np.ndarray  # bool per token: a name or a number (what all coverage of an event shares)
    breaks: np.ndarray  # bool per token: removed text lies just before it
    sentences: list[tuple[int, int]]  # token index ranges
    sentence_starts: list[int]  # first token index of each sentence (for bisect)
    sentence_terms: list[frozenset[str]]
    term_counts: Counter
    anchors: dict[tuple[str, ...], list[int]]  # positions of each n-gram of ANCHOR_SIZE tokens
    # Derived once per text and kept, since a text meets many candidates: _gap_key of
    # each token index asked for so far, the token indexes where ``breaks`` is true,
    # and _content_counts.
    gap_keys: dict[int, str] = field(default_factory=dict, repr=False, compare=False)
    break_positions: list[int] | None = field(default=None, repr=False, compare=False)
    content_counts: Counter | None = field(default=None, repr=False, compare=False)
    phrasing: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.tokens)


# ------------------------------------------------------------------------------
# Preparing one side


def prepare(text: str, ranges: Iterable[tuple[int, int]] | None = None) -> PreparedText:
    """Tokenise ``text`` over ``ranges`` (default: all of it) and find its structure."""
    ranges = [(0, len(text))] if ranges is None else _clip_ranges(text, ranges)
    tokens: list[Token] = []
    range_starts: list[int] = []  # token indexes where a new kept range begins
    for start, end in ranges:
        range_tokens = tokenize(text, start, end)
        if range_tokens and tokens:
            range_starts.append(len(tokens))
        tokens.extend(range_tokens)
    break_array = _removed_text_breaks(text, tokens, range_starts)
    quoted = _quoted_tokens(tokens, find_quotations(text))
    sentences = _sentences(text, tokens, break_array)
    terms = _token_terms(tokens)
    sentence_terms = [frozenset(terms[start:end]) - {""} for start, end in sentences]
    norms = [token.norm for token in tokens]
    surfaces = [_surface(text, token) for token in tokens]
    return PreparedText(
        text=text,
        tokens=tokens,
        norms=norms,
        surfaces=surfaces,
        quoted=quoted,
        statement=statement_tokens(norms, sentences, quoted),
        sentence_starts=[start for start, _ in sentences],
        names=_names_and_numbers(surfaces, sentences),
        breaks=break_array,
        sentences=sentences,
        sentence_terms=sentence_terms,
        term_counts=Counter(term for term in terms if term),
        anchors=_anchor_positions(norms),
    )


def _anchor_positions(norms: list[str]) -> dict[tuple[str, ...], list[int]]:
    """Where each n-gram starts (computed once per text, reused for every candidate)."""
    positions: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in range(len(norms) - ANCHOR_SIZE + 1):
        positions[tuple(norms[i : i + ANCHOR_SIZE])].append(i)
    return dict(positions)


def _clip_ranges(text: str, ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Ranges sorted, clipped to the text, without overlaps: spans must stay inside the text."""
    clipped = []
    last_end = 0
    for start, end in sorted((max(0, int(s)), min(len(text), int(e))) for s, e in ranges):
        start = max(start, last_end)
        if end > start:
            clipped.append((start, end))
            last_end = end
    return clipped


def _removed_text_breaks(text: str, tokens: list[Token], range_starts: list[int]) -> np.ndarray:
    """True for a token preceded by removed text (a caption, an ad) rather than mere spacing."""
    breaks = np.zeros(len(tokens), dtype=bool)
    for index in range_starts:
        gap = text[tokens[index - 1].end : tokens[index].start]
        breaks[index] = any(char.isalnum() for char in gap)
    return breaks


def _surface(text: str, token: Token) -> str:
    """The token as written, with a trailing abbreviation dot ("U.S.") and unified apostrophes."""
    surface = text[token.start : token.end]
    if "." in surface and text[token.end : token.end + 1] == ".":
        surface += "."
    return unicodedata.normalize("NFC", surface).translate(_APOSTROPHES)


def _surface_end(prepared: PreparedText, index: int) -> int:
    """End of the token as written: tokens never end in a dot, so a dot here was appended."""
    return prepared.tokens[index].end + prepared.surfaces[index].endswith(".")


def _names_and_numbers(surfaces: list[str], sentences: list[tuple[int, int]]) -> np.ndarray:
    """Tokens that are numbers, or capitalised words inside a sentence (names, in scripts
    with case): every report of an event shares them, so they are no sign of copying."""
    names = np.fromiter(
        (surface[:1].isupper() or _HAS_DIGIT.search(surface) is not None for surface in surfaces),
        dtype=bool,
        count=len(surfaces),
    )
    for start, _ in sentences:  # a capital opening a sentence is no name (a number still is)
        names[start] = _HAS_DIGIT.search(surfaces[start]) is not None
    return names


# ------------------------------------------------------------------------------
# Quotations

# Opening mark -> the marks that may close it. Ambiguous marks (», ”, ’, ASCII
# quotes) open only where an opening quote can stand: after a space, before a letter.
_QUOTE_PAIRS = {
    '"': '"',
    "＂": "＂",
    "“": "”“",  # English “…”, also a mistyped “…“
    "„": "“”",  # German „…“, Polish „…”
    "‟": "”",
    "”": "”",  # Swedish/Finnish ”…”
    "«": "»",
    "»": "«»",  # German »…«, Swedish »…»
    "‹": "›",
    "›": "‹›",
    "「": "」",
    "『": "』",
    "﹁": "﹂",
    "﹃": "﹄",
    "〝": "〞〟",
    "‘": "’",
    "‚": "‘’",
    "'": "'",
}
_CLOSERS = frozenset("".join(_QUOTE_PAIRS.values()))
_APOSTROPHE_LIKE = frozenset("'’‘")  # also used inside words: Russia's, l'État
_AMBIGUOUS_OPENERS = frozenset("\"'”»›")
_MAX_QUOTE_DEPTH = 6


def find_quotations(text: str) -> list[tuple[int, int]]:
    """Character spans of quoted text (marks included), merged, sorted.

    Works for “…”, "…", „…“, «…», »…«, ‹…›, 「…」, 『…』, ‘…’ and '…'. Quotes do not
    run past the end of a line: an unclosed mark is dropped rather than turning
    the rest of the article into a quotation - except where the next paragraph
    opens with a quotation mark, the convention for a quote running on over several
    paragraphs (the first paragraphs are left unclosed). Apostrophes inside words are
    not quote marks.
    """
    spans: list[tuple[int, int]] = []
    stack: list[tuple[int, str]] = []  # (position of opening mark, marks that close it)
    for position, char in enumerate(text):
        if char == "\n":
            if stack and _quote_runs_on(text, stack[0][0], position):
                spans.append((stack[0][0], position))
            stack.clear()
            continue
        if char in _CLOSERS and _closes_open_quote(text, position, char, stack, spans):
            continue
        if (
            char in _QUOTE_PAIRS
            and _can_open(text, position, char)
            and len(stack) < _MAX_QUOTE_DEPTH
        ):
            stack.append((position, _QUOTE_PAIRS[char]))
    return _merge_spans(spans)


# Double quotation marks, which may run on over paragraphs (single ones are also
# apostrophes, so an unclosed one is never taken as a quote running on).
_RUN_ON_QUOTES = frozenset('"“„«»”')


def _quote_runs_on(text: str, opened_at: int, line_end: int) -> bool:
    """Whether an unclosed double quote at the end of its paragraph runs on: the next
    paragraph opens with a double quotation mark."""
    if text[opened_at] not in _RUN_ON_QUOTES:
        return False
    following = text[line_end:line_end + 200].lstrip()
    return bool(following) and following[0] in _RUN_ON_QUOTES


def _closes_open_quote(text, position, char, stack, spans) -> bool:
    if char in _APOSTROPHE_LIKE and not _can_close_single(text, position):
        return False
    for depth in range(len(stack) - 1, -1, -1):
        opened_at, closers = stack[depth]
        if char in closers:
            if _long_enough(text, opened_at, position):
                spans.append((opened_at, position + 1))
            del stack[depth:]
            return True
    return False


def _long_enough(text: str, opened_at: int, closed_at: int) -> bool:
    """Single quotes around one letter (rock 'n' roll) are elisions, not quotations."""
    if text[opened_at] not in _APOSTROPHE_LIKE:
        return True
    return sum(char.isalnum() for char in text[opened_at + 1 : closed_at]) >= 2


def _can_open(text: str, position: int, char: str) -> bool:
    before = text[position - 1] if position > 0 else " "
    after = text[position + 1] if position + 1 < len(text) else " "
    if char in _APOSTROPHE_LIKE or char in _AMBIGUOUS_OPENERS:
        opens_after = (
            before.isspace()
            or unicodedata.category(before) in ("Ps", "Pi", "Pd")
            or before in _QUOTE_PAIRS
        )
        return opens_after and not after.isspace()
    return True


def _can_close_single(text: str, position: int) -> bool:
    """A single quote closes only after text and before a non-letter (else it is an apostrophe)."""
    before = text[position - 1] if position > 0 else " "
    after = text[position + 1] if position + 1 < len(text) else " "
    return not before.isspace() and not after.isalnum()


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _quoted_tokens(tokens: list[Token], spans: list[tuple[int, int]]) -> np.ndarray:
    starts = [start for start, _ in spans]
    quoted = np.zeros(len(tokens), dtype=bool)
    for index, token in enumerate(tokens):
        position = bisect.bisect_right(starts, token.start) - 1
        quoted[index] = position >= 0 and spans[position][1] >= token.end
    return quoted


# ------------------------------------------------------------------------------
# Sentences and terms


def _sentences(text: str, tokens: list[Token], breaks: np.ndarray) -> list[tuple[int, int]]:
    """Token index ranges of sentences, any script; tiny ones merged, long ones cut."""
    if not tokens:
        return []
    bounds = [0]
    for index in range(1, len(tokens)):
        if breaks[index] or _ends_sentence(text, tokens[index - 1], tokens[index]):
            bounds.append(index)
    bounds.append(len(tokens))
    raw = list(zip(bounds, bounds[1:]))
    return _cut_long(_merge_tiny(raw))


def _ends_sentence(text: str, previous: Token, following: Token) -> bool:
    gap = text[previous.end : following.start]
    next_char = text[following.start]
    if gap.count("\n") >= 2 or ("\n" in gap and not next_char.islower()):
        return True
    terminators = _TERMINATORS.intersection(gap)
    if not terminators:
        return False
    if terminators != {"."}:
        return True
    return not (
        next_char.islower() or _looks_like_abbreviation(text[previous.start : previous.end])
    )


def _looks_like_abbreviation(word: str) -> bool:
    """A dot after "U.S.", an initial ("V.") or a title ("Mr.", "Gen.") rarely ends a sentence."""
    return "." in word or (len(word) == 1 and word.isupper()) or (len(word) <= 3 and word.istitle())


def _merge_tiny(sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    pending_start = None
    for start, end in sentences:
        start = pending_start if pending_start is not None else start
        if end - start < MIN_SENTENCE_TOKENS:
            pending_start = start  # a heading or fragment joins the next sentence
            continue
        pending_start = None
        merged.append((start, end))
    if pending_start is not None:
        if merged:
            merged[-1] = (merged[-1][0], sentences[-1][1])
        else:
            merged.append((pending_start, sentences[-1][1]))
    return merged


def _cut_long(sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    cut = []
    for start, end in sentences:
        pieces = max(1, math.ceil((end - start) / MAX_SENTENCE_TOKENS))
        step = math.ceil((end - start) / pieces)
        cut.extend((s, min(end, s + step)) for s in range(start, end, step))
    return cut


def _token_terms(tokens: list[Token]) -> list[str]:
    """Comparison terms for paraphrase detection, one per token ('' for none).

    Spaced scripts: the word, cut to its first letters. Unspaced scripts (Han,
    kana, Thai ...): each character paired with the next one, since a single
    character is too common to mean much and two often form a word.
    """
    unspaced = unspaced_mask([token.norm for token in tokens])
    terms = []
    for index, token in enumerate(tokens):
        if not unspaced[index]:
            terms.append(token.norm[:STEM_PREFIX])
        elif (
            index + 1 < len(tokens) and unspaced[index + 1] and tokens[index + 1].start == token.end
        ):
            terms.append(token.norm + tokens[index + 1].norm)
        elif index > 0 and unspaced[index - 1] and tokens[index - 1].end == token.start:
            terms.append("")  # already paired with the character before it
        else:
            terms.append(token.norm)  # a character on its own
    return terms


# ------------------------------------------------------------------------------
# Alignment


def align(
    source_text: str,
    derived_text: str,
    source_ranges: Iterable[tuple[int, int]] | None = None,
    derived_ranges: Iterable[tuple[int, int]] | None = None,
) -> Alignment:
    """Align two raw texts over their kept ranges (default: the whole texts)."""
    return align_prepared(
        prepare(source_text, source_ranges), prepare(derived_text, derived_ranges)
    )


def align_prepared(
    source: PreparedText, derived: PreparedText, *, story: bool = True
) -> Alignment:
    """Align two prepared sides (prepare once when one text meets many others).

    With ``story`` the scores include ``story_similarity`` of the two texts alone;
    a caller that knows the corpus measures it corpus-wide instead (``stories``).
    """
    passages = _copy_passages(source, derived)
    paraphrases, links = _paraphrase_passages(source, derived, passages)
    passages = sorted(passages + paraphrases, key=_passage_order)
    scores = _scores(source, derived, passages, links)
    if story:
        scores["story_similarity"] = round(story_similarity(source, derived), 4)
    return Alignment(passages, scores)


def _passage_order(passage: Passage) -> tuple:
    return (passage.derived_start, passage.source_start, passage.kind)


# --- copies ----------------------------------------------------------------------


@dataclass
class _Chain:
    source_start: int
    source_end: int
    derived_start: int
    derived_end: int


def _copy_passages(source: PreparedText, derived: PreparedText) -> list[Passage]:
    passages: list[Passage] = []
    for chain in _chains(_exact_runs(source, derived)):
        budget.look()
        passages.extend(_chain_passages(source, derived, chain))
    return passages


def _exact_runs(source: PreparedText, derived: PreparedText) -> list[tuple[int, int, int]]:
    """Maximal identical runs (source start, derived start, length) grown from n-gram anchors."""
    size = ANCHOR_SIZE
    anchors = []
    for gram, derived_positions in derived.anchors.items():
        source_positions = source.anchors.get(gram)
        if (
            source_positions
            and len(source_positions) <= MAX_ANCHOR_OCCURRENCES
            and len(derived_positions) <= MAX_ANCHOR_OCCURRENCES
        ):
            anchors.extend((j - i, i) for i in source_positions for j in derived_positions)
    anchors.sort()
    # Overlapping anchors on one diagonal form a run: (diagonal, first, end) triples.
    merged: list[list[int]] = []
    for diagonal, i in anchors:
        if merged and merged[-1][0] == diagonal and i <= merged[-1][2]:
            merged[-1][2] = i + size
        else:
            merged.append([diagonal, i, i + size])
    runs = {
        _extend_run(source.norms, derived.norms, start, start + diagonal, end - start)
        for diagonal, start, end in merged
    }
    return sorted(runs)


def _extend_run(source, derived, i: int, j: int, length: int) -> tuple[int, int, int]:
    """Grow an exact run while the tokens either side still agree."""
    while i > 0 and j > 0 and source[i - 1] == derived[j - 1]:
        i, j, length = i - 1, j - 1, length + 1
    while (
        i + length < len(source)
        and j + length < len(derived)
        and source[i + length] == derived[j + length]
    ):
        length += 1
    return (i, j, length)


def _chains(runs: list[tuple[int, int, int]]) -> list[_Chain]:
    """Chain runs that follow each other within a small gap on both sides."""
    active: list[_Chain] = []
    finished: list[_Chain] = []
    for i, j, length in runs:  # sorted by source start
        still_active = []
        for chain in active:
            (still_active if chain.source_end + MAX_BRIDGE_GAP >= i else finished).append(chain)
        active = still_active
        best, best_cost = None, None
        for chain in active:
            gap_source, gap_derived = i - chain.source_end, j - chain.derived_end
            if (
                -ANCHOR_SIZE <= gap_source <= MAX_BRIDGE_GAP
                and -ANCHOR_SIZE <= gap_derived <= MAX_BRIDGE_GAP
            ):
                cost = max(gap_source, 0) + max(gap_derived, 0) + abs(gap_source - gap_derived)
                if best_cost is None or cost < best_cost:
                    best, best_cost = chain, cost
        if best is None:
            active.append(_Chain(i, i + length, j, j + length))
        else:
            best.source_end = max(best.source_end, i + length)
            best.derived_end = max(best.derived_end, j + length)
    return _drop_overlapping(finished + active)


def _drop_overlapping(chains: list[_Chain]) -> list[_Chain]:
    """Each derived token is explained once: keep the longest of chains that overlap there."""
    kept: list[_Chain] = []
    for chain in sorted(chains, key=lambda c: (-(c.derived_end - c.derived_start), c.source_start)):
        length = chain.derived_end - chain.derived_start
        overlap = sum(
            max(
                0,
                min(chain.derived_end, other.derived_end)
                - max(chain.derived_start, other.derived_start),
            )
            for other in kept
        )
        if overlap * 2 < length:
            kept.append(chain)
    return sorted(kept, key=lambda c: (c.derived_start, c.source_start))


@dataclass
class _Step:
    """One aligned token pair, or one change (replace/insert/delete) of the diff."""

    source: tuple[int, int]
    derived: tuple[int, int]
    edit: tuple[tuple[int, int] | None, tuple[int, int] | None] | None  # char spans changed
    quoted: bool
    equal: bool


def _chain_passages(source: PreparedText, derived: PreparedText, chain: _Chain) -> list[Passage]:
    steps = _diff_steps(source, derived, chain)
    if sum(step.equal for step in steps) < MIN_COPY_TOKENS:
        return []
    is_quotation = _is_shared_quotation(steps) or _is_shared_statement(source, derived, chain)
    passages = []
    for piece in _split_at_breaks(source, derived, steps):
        # A scrap cut off by removed text and shorter than an anchor ("Ukraine" at the
        # end of a headline) was never matched on its own: it is not a passage.
        if sum(step.equal for step in piece) >= ANCHOR_SIZE:
            passages.extend(_piece_passages(source, derived, piece, is_quotation))
    return passages


def _diff_steps(source: PreparedText, derived: PreparedText, chain: _Chain) -> list[_Step]:
    source_norms = source.norms[chain.source_start : chain.source_end]
    derived_norms = derived.norms[chain.derived_start : chain.derived_end]
    steps: list[_Step] = []
    for op in Levenshtein.opcodes(source_norms, derived_norms):
        budget.look()  # a long chain has thousands of changes
        i0, i1 = chain.source_start + op.src_start, chain.source_start + op.src_end
        j0, j1 = chain.derived_start + op.dest_start, chain.derived_start + op.dest_end
        if op.tag == "equal":
            follows_equal = bool(steps) and steps[-1].equal
            steps.extend(
                _equal_step(source, derived, i0 + k, j0 + k, compare_gap=follows_equal or k > 0)
                for k in range(i1 - i0)
            )
        else:
            quoted = _all_quoted(source, i0, i1) and _all_quoted(derived, j0, j1)
            edit = (_char_span(source, i0, i1), _char_span(derived, j0, j1))
            steps.append(_Step((i0, i1), (j0, j1), edit, quoted, False))
    return steps


def _equal_step(
    source: PreparedText, derived: PreparedText, i: int, j: int, compare_gap: bool
) -> _Step:
    """An identical token pair; an edit if spelled differently or punctuated differently before."""
    edit = None
    if source.surfaces[i] != derived.surfaces[j]:  # "U.S." -> "US", "minister" -> "Minister"
        edit = (
            (source.tokens[i].start, _surface_end(source, i)),
            (derived.tokens[j].start, _surface_end(derived, j)),
        )
    gap_comparable = compare_gap and not source.breaks[i] and not derived.breaks[j]
    if gap_comparable and _gap_key(source, i) != _gap_key(derived, j):  # ", and" -> " and"
        edit = (
            (_surface_end(source, i - 1), _surface_end(source, i)),
            (_surface_end(derived, j - 1), _surface_end(derived, j)),
        )
    return _Step((i, i + 1), (j, j + 1), edit, bool(source.quoted[i] and derived.quoted[j]), True)


def _gap_key(prepared: PreparedText, index: int) -> str:
    """Punctuation between two tokens, with spacing, dash and quote styles ignored."""
    key = prepared.gap_keys.get(index)
    if key is None:
        gap = prepared.text[_surface_end(prepared, index - 1) : prepared.tokens[index].start]
        key = "".join(gap.split()).translate(_DASHES).translate(_QUOTE_LIKE).replace("…", "...")
        prepared.gap_keys[index] = key
    return key


def _all_quoted(prepared: PreparedText, start: int, end: int) -> bool:
    return bool(prepared.quoted[start:end].all())


def _char_span(prepared: PreparedText, start: int, end: int) -> tuple[int, int] | None:
    if start >= end:
        return None
    return (prepared.tokens[start].start, _surface_end(prepared, end - 1))


def _split_at_breaks(
    source: PreparedText, derived: PreparedText, steps: list[_Step]
) -> list[list[_Step]]:
    """Removed text (a caption, an ad) between two steps ends a passage there."""
    if not source.breaks.any() and not derived.breaks.any():
        return [list(steps)] if steps else []  # nothing removed inside either text: one piece
    pieces: list[list[_Step]] = []
    last_source = last_derived = None
    for step in steps:
        crosses = _break_between(source, last_source, step.source[0]) or _break_between(
            derived, last_derived, step.derived[0]
        )
        if not pieces or crosses:
            pieces.append([])
        pieces[-1].append(step)
        if step.source[1] > step.source[0]:
            last_source = step.source[1]
        if step.derived[1] > step.derived[0]:
            last_derived = step.derived[1]
    return pieces


def _break_between(prepared: PreparedText, last_end: int | None, next_start: int) -> bool:
    """Whether ``breaks`` is true anywhere in ``[last_end, next_start]``."""
    if last_end is None or next_start >= len(prepared):
        return False
    positions = prepared.break_positions
    if positions is None:
        positions = prepared.break_positions = np.flatnonzero(prepared.breaks).tolist()
    first = bisect.bisect_left(positions, last_end)
    return first < len(positions) and positions[first] <= next_start


def _piece_passages(
    source: PreparedText, derived: PreparedText, steps: list[_Step], is_quotation: bool
) -> list[Passage]:
    if is_quotation:
        passage = _make_passage(source, derived, steps, "quotation")
        return [passage] if passage else []
    return _copy_stretches(source, derived, steps)


def _is_shared_quotation(steps: list[_Step]) -> bool:
    """A chain is a shared quotation when, outside quotes, too little agrees to be a copy.

    Quotes inside a copied stretch were copied along with it; a quote that two
    texts share with only "Kim said" around it is two reports of one speaker - and
    so is a long quote (a statement quoted over several sentences) whose reports
    share a few more words introducing it ("Comey's memos", "compiled by").
    """
    unquoted_equal = sum(step.equal and not step.quoted for step in steps)
    quoted = sum(step.quoted for step in steps)
    own_words = max(MIN_COPY_TOKENS, QUOTE_FRAME_SHARE * quoted)
    return unquoted_equal < own_words and quoted >= MIN_QUOTE_RUN_TOKENS


def _is_shared_statement(source: PreparedText, derived: PreparedText, chain: _Chain) -> bool:
    """A chain inside one sentence on each side, both sentences attributing what they say
    ("the ministry said in a statement that ..."), is two reports of one statement.

    Reports of a press release or a tweet share its words without quotation marks. A
    copy takes more: the attribution itself and the sentences around it, so a chain
    running across a sentence boundary is a copy.
    """
    return _in_one_statement(source, chain.source_start, chain.source_end) and (
        _in_one_statement(derived, chain.derived_start, chain.derived_end)
    )


def _in_one_statement(prepared: PreparedText, start: int, end: int) -> bool:
    if end <= start or not prepared.statement[start:end].all():
        return False
    sentence = bisect.bisect_right(prepared.sentence_starts, start) - 1
    return sentence >= 0 and end <= prepared.sentences[sentence][1]


def _copy_stretches(
    source: PreparedText, derived: PreparedText, steps: list[_Step]
) -> list[Passage]:
    """Verbatim stretches, and edited ones around every cluster of edits."""
    edited = [index for index, step in enumerate(steps) if step.edit is not None]
    if not edited:
        passage = _make_passage(source, derived, steps, "verbatim")
        return [passage] if passage else []
    marks = [False] * len(steps)
    for cluster in _edit_clusters(edited):
        for index in range(
            max(0, cluster[0] - EDIT_CONTEXT_TOKENS),
            min(len(steps), cluster[1] + 1 + EDIT_CONTEXT_TOKENS),
        ):
            marks[index] = True
    _absorb_short_verbatim(marks)
    passages = []
    for is_edited, run in _runs_by(list(zip(marks, steps)), lambda pair: pair[0]):
        group = [step for _, step in run]
        passage = _make_passage(source, derived, group, "edited" if is_edited else "verbatim")
        if passage:
            passages.append(passage)
    return passages


def _runs_by(items: list, key) -> list[tuple[object, list]]:
    """Consecutive items grouped by ``key`` (like itertools.groupby, as lists)."""
    runs: list[tuple[object, list]] = []
    for item in items:
        value = key(item)
        if runs and runs[-1][0] == value:
            runs[-1][1].append(item)
        else:
            runs.append((value, [item]))
    return runs


def _edit_clusters(edited: list[int]) -> list[tuple[int, int]]:
    clusters = [[edited[0], edited[0]]]
    for index in edited[1:]:
        if index - clusters[-1][1] - 1 <= EDIT_JOIN_TOKENS:
            clusters[-1][1] = index
        else:
            clusters.append([index, index])
    return [tuple(cluster) for cluster in clusters]


def _absorb_short_verbatim(marks: list[bool]) -> None:
    """An unchanged stretch too short to stand alone becomes part of the edit beside it."""
    index = 0
    while index < len(marks):
        if marks[index]:
            index += 1
            continue
        end = index
        while end < len(marks) and not marks[end]:
            end += 1
        if end - index < MIN_VERBATIM_TOKENS:
            for k in range(index, end):
                marks[k] = True
        index = end


def _make_passage(
    source: PreparedText, derived: PreparedText, steps: list[_Step], kind: str
) -> Passage | None:
    source_range = (min(s.source[0] for s in steps), max(s.source[1] for s in steps))
    derived_range = (min(s.derived[0] for s in steps), max(s.derived[1] for s in steps))
    if source_range[1] <= source_range[0] or derived_range[1] <= derived_range[0]:
        return None  # nothing aligned on one side (a bare insertion)
    similarity = 1.0
    edits: list[list[str]] = []
    if kind != "verbatim":
        similarity = Indel.normalized_similarity(
            source.surfaces[source_range[0] : source_range[1]],
            derived.surfaces[derived_range[0] : derived_range[1]],
        )
        edits = _edit_texts(source, derived, steps)
    return _passage_over(source, derived, source_range, derived_range, kind, similarity, edits)


def phrase_found(source: PreparedText, derived: PreparedText) -> Passage | None:
    """Where the whole of a short ``derived`` appears word for word in ``source``.

    A pasted phrase (MIN_QUOTE_RUN_TOKENS words or more, fewer than MIN_COPY_TOKENS) is
    too short to be a copied stretch, so alignment alone calls it reworded; this says
    where it stands instead: a ``quotation`` passage when every word of it is quoted in
    ``source``, else ``verbatim``. None when it is not there whole, or only across text
    removed from ``source`` (a caption, an ad)."""
    size = len(derived.norms)
    if not MIN_QUOTE_RUN_TOKENS <= size < MIN_COPY_TOKENS:
        return None
    norms, first = source.norms, derived.norms[0]
    for start in range(len(norms) - size + 1):
        end = start + size
        if (
            norms[start] == first
            and norms[start:end] == derived.norms
            and not source.breaks[start + 1 : end].any()
        ):
            kind = "quotation" if source.quoted[start:end].all() else "verbatim"
            return _passage_over(source, derived, (start, end), (0, size), kind, 1.0)
    return None


def _passage_over(
    source: PreparedText,
    derived: PreparedText,
    source_range: tuple[int, int],
    derived_range: tuple[int, int],
    kind: str,
    similarity: float,
    edits: list[list[str]] | None = None,
) -> Passage:
    """The passage covering these token ranges, as character spans of the raw texts."""
    return Passage(
        kind=kind,
        source_start=source.tokens[source_range[0]].start,
        source_end=_surface_end(source, source_range[1] - 1),
        derived_start=derived.tokens[derived_range[0]].start,
        derived_end=_surface_end(derived, derived_range[1] - 1),
        similarity=float(similarity),
        edits=edits or [],
        source_tokens=source_range,
        derived_tokens=derived_range,
    )


def _edit_texts(source: PreparedText, derived: PreparedText, steps: list[_Step]) -> list[list[str]]:
    """Adjacent edits merged into one [source words, derived words] pair."""
    edits: list[list[str]] = []
    merged: list | None = None  # [source span, derived span]
    for step in steps:
        if step.edit is None:
            if merged:
                edits.append(_edit_pair(source, derived, merged))
            merged = None
            continue
        if merged is None:
            merged = [step.edit[0], step.edit[1]]
        else:
            merged = [_join(merged[0], step.edit[0]), _join(merged[1], step.edit[1])]
    if merged:
        edits.append(_edit_pair(source, derived, merged))
    return edits


def _join(first: tuple[int, int] | None, second: tuple[int, int] | None):
    if first is None or second is None:
        return first or second
    return (min(first[0], second[0]), max(first[1], second[1]))


def _edit_pair(source: PreparedText, derived: PreparedText, spans: list) -> list[str]:
    return [_span_text(source.text, spans[0]), _span_text(derived.text, spans[1])]


def _span_text(text: str, span: tuple[int, int] | None) -> str:
    return "" if span is None else text[span[0] : span[1]]


# --- paraphrases -----------------------------------------------------------------


@dataclass
class _SentenceLinks:
    """The sentence-level alignment of two texts."""

    paraphrases: list[tuple[int, int, float]]  # (source sentence, derived sentence, similarity)
    quotations: list[tuple[int, int, float]]  # the same quote in both, worded differently
    gain: float  # evidence of reuse: similarity above background along the alignment, per sentence
    linked: list[tuple[int, int]]  # sentence pairs on the alignment


def _paraphrase_passages(
    source: PreparedText, derived: PreparedText, copies: list[Passage]
) -> tuple[list[Passage], _SentenceLinks]:
    links = _sentence_links(source, derived, copies)
    passages = [
        _sentence_passage(source, derived, pair, "paraphrase") for pair in links.paraphrases
    ]
    passages += [_sentence_passage(source, derived, pair, "quotation") for pair in links.quotations]
    return passages, links


def _sentence_passage(
    source: PreparedText, derived: PreparedText, pair: tuple[int, int, float], kind: str
) -> Passage:
    source_index, derived_index, similarity = pair
    return _passage_over(
        source, derived, source.sentences[source_index], derived.sentences[derived_index],
        kind, similarity,
    )  # fmt: skip


def _quoted_share(prepared: PreparedText, token_range: tuple[int, int]) -> float:
    start, end = token_range
    return float(prepared.quoted[start:end].mean()) if end > start else 0.0


def _sentence_links(
    source: PreparedText, derived: PreparedText, copies: list[Passage]
) -> _SentenceLinks:
    """Align sentences: a monotonic alignment first, then strong pairs that moved.

    Reuse shows as many sentences, in the same order, each more alike than two
    sentences about the same subject usually are. The monotonic alignment
    (dynamic programming over similarity above ``SENTENCE_BACKGROUND_SIMILARITY``)
    measures exactly that; a few independent sentences that happen to match
    score little, because they are few and scattered.
    """
    if not source.sentences or not derived.sentences:
        return _SentenceLinks([], [], 0.0, [])
    if sentence_alignment_bytes(source, derived) > budget.alignment_bytes(
        MAX_SENTENCE_ALIGNMENT_BYTES
    ):
        return _SentenceLinks([], [], 0.0, [])
    budget.look()
    similarity, informative = _sentence_similarity(source, derived)
    # Two renderings of one quote (say, two translations) are shared quotation, not reuse.
    both_quoted = _quoted_sentences(source)[:, None] & _quoted_sentences(derived)[None, :]
    linkable = (informative >= MIN_LINK_INFORMATIVE_TERMS) & ~both_quoted
    gain = np.where(linkable, np.maximum(similarity - SENTENCE_BACKGROUND_SIMILARITY, 0.0), 0.0)
    path = _monotone_path(gain)
    linked = path + _strong_pairs(
        similarity, informative, ~both_quoted, path, MOVED_PARAPHRASE_SIMILARITY
    )
    total_gain = float(sum(gain[i, j] for i, j in linked))
    smaller = min(len(source.sentences), len(derived.sentences))
    # Sentences a copy (or a copied quotation) already explains are not shown again.
    shown = (
        _uncovered_sentences(source, copies, "source")[:, None]
        & _uncovered_sentences(derived, copies, "derived")[None, :]
    )
    quote_free = (
        _uncovered_sentences(source, copies, "source", ("quotation",), 0.0)[:, None]
        & _uncovered_sentences(derived, copies, "derived", ("quotation",), 0.0)[None, :]
    )
    paraphrases = [
        (i, j, float(similarity[i, j]))
        for i, j in sorted(linked, key=lambda pair: pair[1])
        if similarity[i, j] >= MIN_PARAPHRASE_SIMILARITY
        and informative[i, j] >= MIN_SHARED_INFORMATIVE_TERMS
        and shown[i, j]
    ]
    quotations = [
        (i, j, float(similarity[i, j]))
        for i, j in _strong_pairs(
            similarity, informative, both_quoted & shown & quote_free, [], MIN_PARAPHRASE_SIMILARITY
        )
    ]
    return _SentenceLinks(paraphrases, quotations, total_gain / smaller, linked)


def _quoted_sentences(prepared: PreparedText) -> np.ndarray:
    return np.array(
        [
            _quoted_share(prepared, sentence) >= QUOTED_SENTENCE_SHARE
            for sentence in prepared.sentences
        ],
        dtype=bool,
    )


def sentence_alignment_bytes(source: PreparedText, derived: PreparedText) -> int:
    """The most the sentence alignment of two texts allocates (8-byte cells): two sentence x
    shared-term matrices and their weighted copies, and about ten sentence x sentence tables."""
    shared = len(source.term_counts.keys() & derived.term_counts.keys())
    rows, columns = len(source.sentences), len(derived.sentences)
    return 8 * (2 * shared * (rows + columns) + 10 * rows * columns)


def _sentence_similarity(
    source: PreparedText, derived: PreparedText
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Dice of every sentence pair, and how many informative terms each pair shares."""
    weights, informative = _term_weights(source, derived)
    shared_terms = sorted(set(source.term_counts) & set(derived.term_counts))
    shape = (len(source.sentences), len(derived.sentences))
    if not shared_terms:
        return np.zeros(shape), np.zeros(shape)
    source_matrix = _sentence_matrix(source, shared_terms)
    derived_matrix = _sentence_matrix(derived, shared_terms)
    term_weights = np.array([weights[t] for t in shared_terms])
    term_informative = np.array([t in informative for t in shared_terms], dtype=np.float64)
    overlap = (source_matrix * term_weights) @ derived_matrix.T
    informative_overlap = (source_matrix * term_informative) @ derived_matrix.T
    source_total = np.array([sum(weights[t] for t in terms) for terms in source.sentence_terms])
    derived_total = np.array([sum(weights[t] for t in terms) for terms in derived.sentence_terms])
    denominator = source_total[:, None] + derived_total[None, :]
    similarity = np.divide(2 * overlap, denominator, out=np.zeros(shape), where=denominator > 0)
    return similarity, informative_overlap


def _term_weights(source: PreparedText, derived: PreparedText) -> tuple[dict[str, float], set[str]]:
    """IDF over the sentences of both texts: common words and the story's names weigh little."""
    document_frequency: Counter = Counter()
    for terms in source.sentence_terms + derived.sentence_terms:
        document_frequency.update(terms)
    sentence_count = len(source.sentence_terms) + len(derived.sentence_terms)
    informative_limit = max(2, INFORMATIVE_DF_SHARE * sentence_count)
    weights = {
        term: math.log((sentence_count + 1) / (count + 0.5))
        for term, count in document_frequency.items()
    }
    informative = {term for term, count in document_frequency.items() if count <= informative_limit}
    return weights, informative


def _sentence_matrix(prepared: PreparedText, vocabulary: list[str]) -> np.ndarray:
    column = {term: index for index, term in enumerate(vocabulary)}
    matrix = np.zeros((len(prepared.sentence_terms), len(vocabulary)), dtype=np.float64)
    for row, terms in enumerate(prepared.sentence_terms):
        for term in terms:
            index = column.get(term)
            if index is not None:
                matrix[row, index] = 1.0
    return matrix


def _monotone_path(gain: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of the order-preserving alignment with the largest total gain.

    Row by row: best[i][j] = max(best[i-1][j], best[i][j-1], best[i-1][j-1] + gain),
    where the best[i][j-1] term is a running maximum along the row (numpy).
    Texts too long for the full table fall back to the strongest pairs alone.
    """
    rows, columns = gain.shape
    if rows * columns > MAX_ALIGNMENT_CELLS:
        return []
    best = np.zeros((rows + 1, columns + 1))
    for i in range(1, rows + 1):
        budget.look()
        candidate = np.maximum(best[i - 1, 1:], best[i - 1, :-1] + gain[i - 1])
        best[i, 1:] = np.maximum.accumulate(candidate)
    path = []
    i, j = rows, columns
    while i > 0 and j > 0:
        if best[i, j] == best[i - 1, j]:
            i -= 1
        elif best[i, j] == best[i, j - 1]:
            j -= 1
        else:
            path.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return path[::-1]


def _strong_pairs(
    similarity: np.ndarray,
    informative: np.ndarray,
    allowed: np.ndarray,
    taken: list[tuple[int, int]],
    min_similarity: float,
) -> list[tuple[int, int]]:
    """Best-first one-to-one pairs of sentences not yet ``taken`` (paragraphs a rewrite moved)."""
    used_rows = {i for i, _ in taken}
    used_columns = {j for _, j in taken}
    strong = (
        allowed & (similarity >= min_similarity) & (informative >= MIN_SHARED_INFORMATIVE_TERMS)
    )
    rows, columns = np.nonzero(strong)
    order = np.argsort(-similarity[rows, columns], kind="stable")
    pairs = []
    for k in order:
        i, j = int(rows[k]), int(columns[k])
        if i in used_rows or j in used_columns:
            continue
        used_rows.add(i)
        used_columns.add(j)
        pairs.append((i, j))
    return pairs


def _uncovered_sentences(
    prepared: PreparedText,
    passages: list[Passage],
    side: str,
    kinds: Iterable[str] | None = None,
    max_covered: float = MAX_COVERED_FOR_PARAPHRASE,
) -> np.ndarray:
    """Sentences whose tokens ``passages`` (of ``kinds``) cover at most ``max_covered``."""
    if not prepared.sentences:
        return np.zeros(0, dtype=bool)
    covered = np.concatenate([[0], np.cumsum(_coverage(len(prepared), passages, side, kinds))])
    bounds = np.array(prepared.sentences)
    lengths = bounds[:, 1] - bounds[:, 0]
    shares = (covered[bounds[:, 1]] - covered[bounds[:, 0]]) / np.maximum(lengths, 1)
    return (lengths > 0) & (shares <= max_covered)


# ------------------------------------------------------------------------------
# Scores


def _coverage(
    token_count: int, passages: list[Passage], side: str, kinds: Iterable[str] | None = None
) -> np.ndarray:
    covered = np.zeros(token_count, dtype=bool)
    for passage in passages:
        if kinds is None or passage.kind in kinds:
            start, end = passage.source_tokens if side == "source" else passage.derived_tokens
            covered[start:end] = True
    return covered


def _share(covered: np.ndarray) -> float:
    return float(covered.mean()) if len(covered) else 0.0


def _scores(
    source: PreparedText, derived: PreparedText, passages: list[Passage], links: _SentenceLinks
) -> dict[str, float]:
    scores: dict[str, float] = {"source_tokens": len(source), "derived_tokens": len(derived)}
    kinds_by_score = {
        "containment": ("verbatim", "edited", "paraphrase"),
        "copy_containment": ("verbatim", "edited"),
        "verbatim_containment": ("verbatim",),
        "paraphrase_containment": ("paraphrase",),
        "quote_coverage": ("quotation",),
    }
    for name, kinds in kinds_by_score.items():
        for side, prepared in (("source", source), ("derived", derived)):
            covered = _coverage(len(prepared), passages, side, kinds)
            if name == "paraphrase_containment":  # copies win where both claim a token
                covered &= ~_coverage(len(prepared), passages, side, ("verbatim", "edited"))
            scores[f"{side}_{name}"] = _share(covered)
    for kind in PASSAGE_KINDS:
        scores[f"passages_{kind}"] = sum(passage.kind == kind for passage in passages)
    scores.update(_edit_scores(passages))
    scores.update(_matched_shares(source, derived, passages))
    scores.update(_fidelity(source, derived, passages, links, scores))
    scores.update(_shingle_scores(source.norms, derived.norms))
    scores.update(_phrasing_scores(source, derived, passages))
    scores.update(_paraphrase_scores(source, derived, links))
    scores["passage_order"] = _order_preservation(
        [(p.derived_tokens[0], p.source_tokens[0]) for p in passages if p.kind != "quotation"]
    )
    return {
        name: (round(value, 4) if isinstance(value, float) else value)
        for name, value in scores.items()
    }


def _edit_scores(passages: list[Passage]) -> dict[str, float]:
    copied = [p for p in passages if p.kind in ("verbatim", "edited")]
    copied_tokens = sum(p.derived_tokens[1] - p.derived_tokens[0] for p in copied)
    edited_tokens = sum(
        p.derived_tokens[1] - p.derived_tokens[0] for p in copied if p.kind == "edited"
    )
    edit_count = sum(len(p.edits) for p in copied)
    return {
        "copied_tokens": copied_tokens,
        "edit_count": edit_count,
        "edited_share": edited_tokens / copied_tokens if copied_tokens else 0.0,
        "edits_per_100_tokens": 100.0 * edit_count / copied_tokens if copied_tokens else 0.0,
        "copy_similarity": (
            sum(p.similarity * (p.derived_tokens[1] - p.derived_tokens[0]) for p in copied)
            / copied_tokens
            if copied_tokens
            else 0.0
        ),
    }


def _matched_shares(
    source: PreparedText, derived: PreparedText, passages: list[Passage]
) -> dict[str, float]:
    """Share of each text's tokens found unchanged inside copied passages.

    Unlike copy containment, which counts an edited passage whole, this counts
    only the words that survived the edit: a light revision keeps most of them,
    a heavy one few.
    """
    matched = 0.0
    for passage in passages:
        if passage.kind in ("verbatim", "edited"):
            lengths = (passage.source_tokens[1] - passage.source_tokens[0]) + (
                passage.derived_tokens[1] - passage.derived_tokens[0]
            )
            matched += passage.similarity * lengths / 2
    return {
        "source_matched_share": matched / len(source) if len(source) else 0.0,
        "derived_matched_share": matched / len(derived) if len(derived) else 0.0,
    }


def _fidelity(
    source: PreparedText,
    derived: PreparedText,
    passages: list[Passage],
    links: _SentenceLinks,
    scores: dict,
) -> dict[str, float]:
    """Of the text that was reused, the share kept word for word.

    Reused text is every sentence linked to the other text (by a copy or by the
    sentence alignment). A light edit keeps most words of what it reuses; a
    paraphrase keeps few, even where it follows the source sentence by sentence.
    """
    result = {}
    for side, prepared, index in (("source", source, 0), ("derived", derived, 1)):
        linked = _coverage(len(prepared), passages, side, ("verbatim", "edited"))
        for pair in links.linked:
            start, end = prepared.sentences[pair[index]]
            linked[start:end] = True
        linked_share = _share(linked)
        result[f"{side}_linked_share"] = linked_share
        result[f"{side}_fidelity"] = (
            min(1.0, scores[f"{side}_matched_share"] / linked_share) if linked_share else 0.0
        )
    return result


def _shingle_scores(source: Sequence[str], derived: Sequence[str]) -> dict[str, float]:
    source_shingles = _shingle_set(source)
    derived_shingles = _shingle_set(derived)
    shared = len(source_shingles & derived_shingles)
    union = len(source_shingles | derived_shingles)
    return {
        "shingle_size": SHINGLE_SIZE,
        "jaccard": shared / union if union else 0.0,
        "source_shingle_containment": shared / len(source_shingles) if source_shingles else 0.0,
        "derived_shingle_containment": shared / len(derived_shingles) if derived_shingles else 0.0,
    }


def _phrasing_scores(
    source: PreparedText, derived: PreparedText, passages: list[Passage]
) -> dict[str, float]:
    """How much of each text's own wording the other shares, names, numbers and statements aside.

    Reports of one event share its names, numbers and the statements made about it;
    a text written from another also keeps its wording. A text's *phrasing* is its
    word 3-grams holding no name or number and not wholly inside a statement.
    """
    source_phrasing = _phrasing(source)
    derived_phrasing = _phrasing(derived)
    shared = len(np.intersect1d(source_phrasing, derived_phrasing, assume_unique=True))
    copied = _copied_stretches(derived, passages)
    return {
        "source_phrase_overlap": shared / len(source_phrasing) if len(source_phrasing) else 0.0,
        "derived_phrase_overlap": shared / len(derived_phrasing) if len(derived_phrasing) else 0.0,
        "copied_phrasing_tokens": sum(copied),
        "longest_copied_phrasing": max(copied, default=0),
    }


def _copied_stretches(derived: PreparedText, passages: list[Passage]) -> list[int]:
    """Words kept in each stretch of copied text (derived side), names and numbers aside.

    Verbatim and edited passages that touch are one stretch, as they were one copied
    passage before the edits; an edited passage counts the share of its words kept
    (its similarity), so two sentences reworded around the same names are no copy.
    """
    stretches: list[list] = []  # [start, end, words kept]
    for passage in sorted(
        (p for p in passages if p.kind in ("verbatim", "edited")), key=lambda p: p.derived_tokens
    ):
        start, end = passage.derived_tokens
        kept = (end - start - int(derived.names[start:end].sum())) * passage.similarity
        if stretches and start <= stretches[-1][1]:
            stretches[-1][1] = max(stretches[-1][1], end)
            stretches[-1][2] += kept
        else:
            stretches.append([start, end, kept])
    return [round(words) for _, _, words in stretches]


def _phrasing(prepared: PreparedText) -> np.ndarray:
    """Hashes of the text's phrasing 3-grams, distinct and sorted (computed once per text)."""
    if prepared.phrasing is None:
        size = PHRASING_SIZE
        count = len(prepared.norms) - size + 1
        if count <= 0:
            prepared.phrasing = np.zeros(0, dtype=np.uint64)
        else:
            hashes = shingle_hashes(token_hashes(prepared.norms), size)
            names = _window_count(prepared.names, size)
            in_statement = _window_count(prepared.statement, size)
            keep = (names == 0) & (in_statement < size)
            prepared.phrasing = np.unique(hashes[keep])
    return prepared.phrasing


def _window_count(flags: np.ndarray, size: int) -> np.ndarray:
    """How many of each run of ``size`` consecutive flags are set."""
    running = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    return running[size:] - running[:-size]


def _shingle_set(norms: Sequence[str]) -> set[tuple[str, ...]]:
    if len(norms) < SHINGLE_SIZE:
        return {tuple(norms)} if norms else set()
    return {tuple(norms[i : i + SHINGLE_SIZE]) for i in range(len(norms) - SHINGLE_SIZE + 1)}


def _paraphrase_scores(
    source: PreparedText, derived: PreparedText, links: _SentenceLinks
) -> dict[str, float]:
    pairs = links.paraphrases
    return {
        "sentence_alignment": links.gain,
        "linked_sentences": len(links.linked),
        "paraphrase_sentences": len(pairs),
        "source_sentences": len(source.sentences),
        "derived_sentences": len(derived.sentences),
        "paraphrase_similarity": sum(s for _, _, s in pairs) / len(pairs) if pairs else 0.0,
        "paraphrase_order": _order_preservation([(d, s) for s, d, _ in pairs]),
    }


def _order_preservation(pairs: list[tuple[int, int]]) -> float:
    """Share of aligned pairs in one monotonic order (longest increasing subsequence)."""
    if not pairs:
        return 0.0
    tails: list[int] = []
    for _, source_position in sorted(pairs):
        index = bisect.bisect_left(tails, source_position)
        if index == len(tails):
            tails.append(source_position)
        else:
            tails[index] = source_position
    return len(tails) / len(pairs)


def story_similarity(source: PreparedText, derived: PreparedText) -> float:
    """Cosine of the two texts' content-word profiles, words weighted by rarity in their sentences.

    Same-story articles share the event's own words (places, people, numbers,
    the subject) beyond the vocabulary every text has. Content words are those
    of ``STORY_MIN_CHARS`` letters or more, or character pairs in unspaced
    scripts - the same notion as the index's story signatures, so retrieval and
    verification agree on what a story is. On the seeds, articles about the
    summit score 0.36-0.86 with each other and the appended Canada story
    0.11-0.16 with any of them.
    """
    weights, _ = _term_weights(source, derived)
    source_counts = _content_counts(source)
    derived_counts = _content_counts(derived)
    shared = set(source_counts) & set(derived_counts)
    if not shared:
        return 0.0
    dot = sum(source_counts[t] * derived_counts[t] * weights[t] ** 2 for t in shared)
    denominator = _weighted_norm(source_counts, weights) * _weighted_norm(derived_counts, weights)
    return dot / denominator if denominator else 0.0


def _content_counts(prepared: PreparedText) -> Counter:
    """The text's content-word counts (computed once per text; callers only read them)."""
    if prepared.content_counts is None:
        prepared.content_counts = Counter(
            {
                term: count
                for term, count in prepared.term_counts.items()
                if len(term) >= STORY_MIN_CHARS or _is_unspaced_pair(term)
            }
        )
    return prepared.content_counts


def _is_unspaced_pair(term: str) -> bool:
    return len(term) == 2 and bool(unspaced_mask(list(term)).all())


def _weighted_norm(counts: Counter, weights: dict[str, float]) -> float:
    return math.sqrt(sum((count * weights.get(term, 0.0)) ** 2 for term, count in counts.items()))
