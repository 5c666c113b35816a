"""MinHash signatures of segments, in datasketch's permutation scheme, vectorised.

A segment is signed three ways, all from one pass over its tokens:

* **window 0** - MinHash of all its word shingles (the whole-segment estimate);
* **token windows** - MinHash of overlapping windows of ``window_size`` shingles
  every ``window_step`` shingles, so a short copy inside a long article (or a long
  article wrapping a short wire item) still meets a signature of about its own
  size. They are cut from the same permuted matrix as window 0: the matrix is
  reduced once per block of ``window_step`` shingles and every window is the
  minimum of its consecutive blocks, so nothing is hashed twice;
* **story** - MinHash of the segment's content words, so a paraphrase that keeps
  the story's names and vocabulary but almost none of its 5-word phrases is
  still a (looser) candidate.

The MinHash is exactly ``datasketch.MinHash(num_perm, seed)`` (scheme
``"affine32"``, the default since datasketch 2.0) fed 32-bit values with
``update``/``update_batch``: each value is pre-mixed with the 32-bit
MurmurHash3 finaliser, then permuted by ``a * h + b mod 2**32`` with datasketch's
own ``a``/``b``. We feed it the low 32 bits of each shingle's 64-bit hash from
``shingles.shingle_hashes``. ``tests/test_signatures.py`` proves the equality.

Why ``affine32`` and not datasketch's ``"legacy"`` scheme
(``((a * h + b) % (2**61 - 1)) & (2**32 - 1)``, computed in wrapping uint64): it
is what ``MinHash(num_perm, seed)`` actually draws today, datasketch recommends
it for new data (legacy's fold from the 61-bit prime range to 32 bits inflates
estimates on large sets), and it is about twenty times faster in numpy, where a
uint64 modulo is a per-element division.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, fields
from typing import Sequence

import numpy as np

from .shingles import shingle_hashes, token_hashes, unspaced_mask

# Hash values are 32-bit; an empty set keeps this sentinel in every slot (as datasketch does).
MAX_HASH = np.uint32(0xFFFFFFFF)

# Signatures are stored as little-endian uint64 (see store.py: signatures.hashvalues).
BLOB_DTYPE = np.dtype("<u8")

SCHEME = "affine32"


class ParamsError(ValueError):
    """Signature parameters that cannot work together."""


@dataclass(frozen=True)
class SignatureParams:
    """Everything that decides what is stored in ``signatures`` and ``lsh_bands``.

    A database remembers the params it was built with (``provenance_meta`` key
    ``signature_params``); changing any field means rebuilding the index.
    Thresholds applied when *reading* the index are not here: they live in
    ``index.py`` and can change without a rebuild.
    """

    # Word n-grams. Five words almost never repeat by chance between unrelated
    # news texts, yet one changed word only costs the five shingles around it.
    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    scheme: str = SCHEME
    # LSH of text windows: P(candidate) = 1 - (1 - J**rows)**bands per window pair.
    # Two aligned windows sharing half their shingles (containment 0.5) have
    # J = 0.5 / 1.5 = 0.33; 32 bands of 3 rows put the S-curve's midpoint there
    # (P = 0.69 for one window pair, and longer copies give several pairs), and
    # P = 0.99 at J = 0.5. Windows sharing a stock phrase (J ~ 0.01) collide with
    # P ~ 3e-5; index.TEXT_MIN_JACCARD drops what does collide by chance.
    text_bands: int = 32
    text_rows: int = 3
    # Windows of 100 shingles every 50: any passage of 150+ words holds a whole
    # window, and a 100-word passage overlaps one by at least 75 words.
    window_size: int = 100
    window_step: int = 50
    # Story words: looser LSH (rows of 2), because paraphrases of one story share
    # only 15-35% of their content words. The reading side then checks the
    # estimated story Jaccard (index.STORY_MIN_JACCARD).
    story_bands: int = 64
    story_rows: int = 2
    # Content words are words of at least this many characters (see _story_hashes).
    story_min_chars: int = 4
    # A word counts once per occurrence, up to this many times (multiset Jaccard).
    story_max_repeats: int = 5

    def __post_init__(self) -> None:
        problems = []
        if self.scheme != SCHEME:
            problems.append(f"scheme must be {SCHEME!r}")
        if not 1 <= self.shingle_size <= 8:
            problems.append("shingle_size must be between 1 and 8")
        for kind in ("text", "story"):
            bands, rows = getattr(self, f"{kind}_bands"), getattr(self, f"{kind}_rows")
            if bands < 1 or not 1 <= rows <= 8 or bands * rows > self.num_perm:
                problems.append(f"{kind}_bands x {kind}_rows must be at most num_perm, rows 1-8")
        if self.window_step < 1 or self.window_size % self.window_step:
            problems.append("window_size must be a positive multiple of window_step")
        if self.story_min_chars < 1 or self.story_max_repeats < 1:
            problems.append("story_min_chars and story_max_repeats must be positive")
        if problems:
            raise ParamsError("invalid signature params: " + "; ".join(problems))

    def as_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict) -> "SignatureParams":
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParamsError(f"unknown signature params: {', '.join(unknown)}")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> "SignatureParams":
        return cls.from_dict(json.loads(text))


DEFAULT_PARAMS = SignatureParams()


@dataclass(frozen=True, eq=False)
class SegmentSignatures:
    """The signatures of one segment.

    ``text[0]`` is window 0 (the whole segment); ``text[1:]`` are the token
    windows, in text order (none for segments shorter than
    ``window_size + window_step`` shingles: every window-sized part of those
    covers at least 2/3 of the whole, so window 0 already stands for it).
    """

    text: np.ndarray  # (1 + windows, num_perm) uint32
    text_shingle_counts: np.ndarray  # (1 + windows,) shingles in each window
    story: np.ndarray  # (num_perm,) uint32; all MAX_HASH when there are no content words
    story_word_count: int  # elements in the story set (content words, repeats counted)
    token_count: int

    @property
    def shingle_count(self) -> int:
        return int(self.text_shingle_counts[0])

    @property
    def window_count(self) -> int:
        """Token windows, not counting window 0."""
        return len(self.text) - 1

    @property
    def banded_windows(self) -> np.ndarray:
        """Windows whose LSH bands are indexed and looked up.

        The token windows, or window 0 when there are none. Window 0 of a long
        segment is kept for scoring but not banded: its Jaccard with any
        window-sized passage is at most window_size / length, so its bands would
        only rarely find what its windows find anyway.
        """
        if self.shingle_count == 0:
            return np.zeros(0, dtype=np.intp)
        if self.window_count:
            return np.arange(1, len(self.text))
        return np.zeros(1, dtype=np.intp)


@functools.lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's own ``(a, b)`` for ``MinHash(num_perm, seed)`` (read-only uint32 arrays)."""
    from datasketch import MinHash  # import cost paid once, and only when signing

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations
    a, b = np.array(a, dtype=np.uint32), np.array(b, dtype=np.uint32)
    a.flags.writeable = b.flags.writeable = False
    return a, b


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (datasketch's pre-mix for ``affine32``); wraps mod 2**32."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def minhash(values32: np.ndarray, params: SignatureParams = DEFAULT_PARAMS) -> np.ndarray:
    """MinHash of a set of 32-bit hash values (duplicates are harmless)."""
    values32 = np.asarray(values32, dtype=np.uint32)
    if len(values32) == 0:
        return np.full(params.num_perm, MAX_HASH, dtype=np.uint32)
    return _permuted(values32, 1, params).min(axis=0)


def sign_tokens(norms: Sequence[str], params: SignatureParams = DEFAULT_PARAMS) -> SegmentSignatures:
    """Sign a segment given its normalised tokens (``shingles.Token.norm``, in order)."""
    hashes = token_hashes(norms)
    shingles32 = shingle_hashes(hashes, params.shingle_size).astype(np.uint32)  # low 32 bits
    text, counts = _text_signatures(shingles32, params)
    story_values = _story_hashes(norms, hashes, params)
    return SegmentSignatures(
        text=text,
        text_shingle_counts=counts,
        story=minhash(story_values, params),
        story_word_count=len(story_values),
        token_count=len(norms),
    )


def _text_signatures(shingles32: np.ndarray, params: SignatureParams) -> tuple[np.ndarray, np.ndarray]:
    """Window 0 and the token windows, from one permuted matrix."""
    count = len(shingles32)
    if count == 0:
        return np.full((1, params.num_perm), MAX_HASH, dtype=np.uint32), np.zeros(1, dtype=np.int64)
    if count < params.window_size + params.window_step:
        return _permuted(shingles32, count, params).min(axis=0, keepdims=True), np.array([count])
    step, size = params.window_step, params.window_size
    permuted = _permuted(shingles32, step, params)
    blocks = permuted.reshape(-1, step, params.num_perm).min(axis=1)
    blocks_per_window = size // step
    aligned_count = (count - size) // step + 1  # windows that fit whole at multiples of step
    windows = blocks[:aligned_count].copy()
    for offset in range(1, blocks_per_window):
        np.minimum(windows, blocks[offset : offset + aligned_count], out=windows)
    if (aligned_count - 1) * step + size < count:  # one more window, ending at the last shingle
        windows = np.vstack([windows, permuted[count - size : count].min(axis=0)])
    text = np.vstack([blocks.min(axis=0), windows])
    return text, np.concatenate([[count], np.full(len(windows), size)])


def _permuted(values32: np.ndarray, block: int, params: SignatureParams) -> np.ndarray:
    """Every value under every permutation: one (rows x num_perm) uint32 matrix op.

    Rows are padded with MAX_HASH to a whole number of ``block`` rows, so minima
    per block are a single reshape-and-min.
    """
    a, b = permutations(params.num_perm, params.seed)
    count = len(values32)
    permuted = np.empty((-(-count // block) * block, params.num_perm), dtype=np.uint32)
    np.multiply(fmix32(values32)[:, None], a, out=permuted[:count])
    np.add(permuted[:count], b, out=permuted[:count])
    permuted[count:] = MAX_HASH
    return permuted


# Odd 64-bit constant spreading occurrence numbers (2nd "said" differs from the 1st).
_REPEAT_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def _story_hashes(norms: Sequence[str], hashes: np.ndarray, params: SignatureParams) -> np.ndarray:
    """32-bit hashes of the segment's content words, one per occurrence up to a cap.

    Which words count, without per-language lists:

    * In spaced scripts, words shorter than ``story_min_chars`` (4) are dropped.
      Short words are the frequent ones in every language we see (Zipf's law of
      abbreviation: the/and/for, и/в/на/что, في/من/على, de/la/que), and they are
      what makes two unrelated news stories look alike. On the seed articles this
      alone moves the unrelated Canada story from 0.12 to 0.07 unigram Jaccard
      with the summit story, while the summit's paraphrases stay at 0.16-0.30.
    * In unspaced scripts (Han, kana, Thai, ...) each character is a token, so
      the content "words" are pairs of adjacent characters instead.
    * Each occurrence counts, up to ``story_max_repeats``: the names and topic a
      story keeps repeating (Kim, Putin, satellite) weigh more than words used
      once in passing, which widens the gap between same-story paraphrases and
      merely same-genre stories further.

    A corpus-frequency stoplist was considered and rejected: it would have to be
    frozen before the first segment is signed (signatures made with one list
    cannot be compared with another), when there is no corpus yet. Very common
    words left in are instead handled at read time: their band buckets are huge
    and ``index.candidates`` reads only a bounded part of any bucket.
    """
    if not norms:
        return np.zeros(0, dtype=np.uint32)
    lengths = np.fromiter(map(len, norms), dtype=np.int64, count=len(norms))
    unspaced = unspaced_mask(norms)
    content = hashes[(lengths >= params.story_min_chars) & ~unspaced]
    adjacent_unspaced = unspaced[:-1] & unspaced[1:]
    if adjacent_unspaced.any():
        character_pairs = shingle_hashes(hashes, 2)[adjacent_unspaced]
        content = np.concatenate([content, character_pairs])
    return _counted_occurrences(content, params.story_max_repeats).astype(np.uint32)


def _counted_occurrences(values: np.ndarray, max_repeats: int) -> np.ndarray:
    """Make the k-th occurrence of a value a distinct element, for k < max_repeats."""
    if max_repeats == 1 or len(values) == 0:
        return np.unique(values)
    ordered = np.sort(values)
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    group_sizes = np.diff(np.append(starts, len(ordered)))
    occurrence = np.arange(len(ordered)) - np.repeat(starts, group_sizes)
    keep = occurrence < max_repeats
    with np.errstate(over="ignore"):
        return ordered[keep] + occurrence[keep].astype(np.uint64) * _REPEAT_MULTIPLIER


def estimate_jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """Share of equal slots: datasketch's ``MinHash.jaccard`` on raw hash values."""
    if len(first) != len(second):
        raise ValueError("signatures of different lengths cannot be compared")
    return float(np.count_nonzero(first == second)) / len(first)


def jaccard_matrix(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of every row of ``first`` (m x P) with every row of ``second`` (n x P)."""
    equal = first[:, None, :] == second[None, :, :]
    return np.count_nonzero(equal, axis=2) / first.shape[1]


def estimate_containment(jaccard, size: np.ndarray, other_size: np.ndarray) -> np.ndarray:
    """Estimated share of a set found in another, from their Jaccard and sizes.

    |A & B| = J (|A| + |B|) / (1 + J), so containment(A in B) = |A & B| / |A|.
    """
    jaccard = np.asarray(jaccard, dtype=np.float64)
    shared = jaccard * (size + other_size) / (1.0 + jaccard)
    return np.minimum(1.0, shared / np.maximum(size, 1))


def window_token_ranges(shingle_count: int, params: SignatureParams = DEFAULT_PARAMS) -> list[tuple[int, int]]:
    """Token ``[start, end)`` of each window, window 0 first (to map a window back to text)."""
    extra = params.shingle_size - 1
    ranges = [(0, shingle_count + extra if shingle_count else 0)]
    size, step = params.window_size, params.window_step
    if shingle_count < size + step:
        return ranges
    starts = list(range(0, shingle_count - size + 1, step))
    if starts[-1] + size < shingle_count:
        starts.append(shingle_count - size)
    return ranges + [(start, start + size + extra) for start in starts]


def pack(values: np.ndarray) -> bytes:
    """A signature as a BLOB (little-endian uint64, see store.py)."""
    return np.asarray(values).astype(BLOB_DTYPE).tobytes()


def unpack(blob: bytes) -> np.ndarray:
    """A BLOB written by ``pack`` back to a uint32 signature."""
    return _narrow(np.frombuffer(blob, dtype=BLOB_DTYPE))


def unpack_many(blobs: Sequence[bytes], num_perm: int) -> np.ndarray:
    """Several BLOBs of ``num_perm`` values as one (len(blobs) x num_perm) uint32 matrix."""
    values = np.frombuffer(b"".join(blobs), dtype=BLOB_DTYPE)
    if values.size != len(blobs) * num_perm:
        raise ValueError(f"signature BLOBs are not all {num_perm} values long")
    return _narrow(values).reshape(len(blobs), num_perm)


def _narrow(values: np.ndarray) -> np.ndarray:
    if values.size and values.max() > MAX_HASH:
        raise ValueError("signature BLOB holds values wider than 32 bits")
    return values.astype(np.uint32)
