"""MinHash signatures of segments, in datasketch's permutation scheme, vectorised.

A segment is signed three ways, all from one pass over its tokens:

* **window 0** - MinHash of all its word shingles (the whole-segment estimate);
* **token windows** - MinHash of overlapping windows of ``window_size`` shingles
  every ``window_step`` shingles, so a short copy inside a long article (or a
  long article wrapping a short wire item) still meets a signature of about its
  own size. They are cut from the same permuted matrix as window 0: it is
  reduced once per block of ``window_step`` rows and each window is the minimum
  of its consecutive blocks, so nothing is hashed or permuted twice;
* **story** - MinHash of the segment's content words, so a paraphrase that keeps
  the story's names and vocabulary but almost none of its 5-word phrases is
  still a (looser) candidate.

The MinHash is exactly ``datasketch.MinHash(num_perm, seed)`` - scheme
``"affine32"``, datasketch's default since 2.0 - fed 32-bit values through
``update``/``update_batch``: each value is pre-mixed with the 32-bit MurmurHash3
finaliser, then permuted by ``a * h + b mod 2**32``, with ``a``/``b`` drawn by
datasketch's own generator. Our values are the low 32 bits of each shingle's
64-bit hash from ``tokens.shingle_hashes``. ``tests/test_signatures.py``
proves the equality bit for bit.

Why ``affine32`` rather than the pre-2.0 ``"legacy"`` scheme
(``((a * h + b) % (2**61 - 1)) & (2**32 - 1)`` in wrapping uint64 arithmetic):
it is what ``MinHash(num_perm, seed)`` draws today, datasketch recommends it for
new data (legacy's fold from the 61-bit range to 32 bits inflates estimates on
large sets), and it is about twenty times faster in numpy, where a uint64
modulo is a division per element.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..parameters import DEFAULT_PARAMS, SignatureParams
from .tokens import shingle_hashes, token_hashes, tokenize_ranges, unspaced_mask

# Hash values are 32-bit; an empty set keeps this in every slot, as datasketch does.
MAX_HASH = np.uint32(0xFFFFFFFF)

# Signatures are stored as little-endian uint32 (store.py: signatures.hashvalues): every
# value is a 32-bit hash, so half the bytes of uint64 for the same numbers.
BLOB_DTYPE = np.dtype("<u4")

# Rows of the permuted matrix made at once (x num_perm x 4 bytes = 8 MB at 128
# permutations): bounds memory for book-length segments without slowing news-sized ones.
_ROWS_PER_CHUNK = 16_000


@dataclass(frozen=True, eq=False)
class SegmentSignatures:
    """The signatures of one segment.

    ``text[0]`` is window 0 (the whole segment); ``text[1:]`` are the token
    windows in text order: ``window_size`` shingles starting every
    ``window_step``, the last one stretched over the remainder (up to
    ``window_size + window_step - 1``). Segments shorter than ``window_size +
    window_step`` shingles have none: every window-sized part of them covers at
    least 2/3 of the whole, so window 0 already stands for it.
    """

    text: np.ndarray  # (1 + windows, num_perm) uint32
    text_shingle_counts: np.ndarray  # (1 + windows,) shingles in each window
    story: np.ndarray  # (num_perm,) uint32; all MAX_HASH without content words
    story_word_count: int  # elements of the story multiset (content words, repeats counted)
    token_count: int
    # Winnowing fingerprints of the word shingles (``winnow``), distinct and sorted.
    fingerprints: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    # The publication window its story bands are keyed by (``lsh.story_window``; 0: undated).
    # Not made from the text: the signer sets it from the article's date.
    story_window: int = 0
    # The word shingles' hashes (low 32 bits) in text order: ``text`` is their MinHash
    # (``text_windows``), so the index stores these instead of the token windows (a
    # third of the bytes). None when not known (signatures read from an older layout).
    shingles: np.ndarray | None = None

    @property
    def shingle_count(self) -> int:
        return int(self.text_shingle_counts[0])

    @property
    def window_count(self) -> int:
        """Token windows, not counting window 0."""
        return len(self.text) - 1

    @property
    def banded_windows(self) -> np.ndarray:
        """Indices of the text windows whose LSH bands are indexed and looked up.

        The token windows, or window 0 when there are none. Window 0 of a long
        segment is stored for scoring but not banded: its Jaccard with any
        window-sized passage is at most window_size / length, so its bands
        would rarely find anything its windows do not.
        """
        if self.shingle_count == 0:
            return np.zeros(0, dtype=np.intp)
        if self.window_count:
            return np.arange(1, len(self.text))
        return np.zeros(1, dtype=np.intp)


@functools.lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)`` exactly as ``datasketch.MinHash(num_perm, seed)`` draws them (affine32).

    Reproduced from datasketch 2.0's ``_init_permutations`` rather than read
    from a MinHash: importing datasketch costs ~0.4 s per process (it pulls in
    scipy), and stored signatures must not change if a later datasketch
    release draws differently. The test suite compares with datasketch.
    """
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.flags.writeable = b.flags.writeable = False
    return a, b


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, datasketch's pre-mix for ``affine32`` (wraps mod 2**32)."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def minhash(values32: np.ndarray, params: SignatureParams = DEFAULT_PARAMS) -> np.ndarray:
    """MinHash of a set of 32-bit hash values (repeated values are harmless)."""
    values32 = np.asarray(values32, dtype=np.uint32)
    if len(values32) == 0:
        return np.full(params.num_perm, MAX_HASH, dtype=np.uint32)
    return _block_minima(values32, min(len(values32), _ROWS_PER_CHUNK), params).min(axis=0)


def sign_tokens(
    norms: Sequence[str], params: SignatureParams = DEFAULT_PARAMS, *, native: bool = True
) -> SegmentSignatures:
    """Sign a segment from its normalised tokens in text order (``tokens.words``).

    With the native extension built (and ``native``), one C call does it: the same
    values, bit for bit, as the numpy code below."""
    if native:
        found = sign_natively(norms, params)
        if found is not None:
            return found[0]
    hashes = token_hashes(norms)
    shingles = shingle_hashes(hashes, params.shingle_size)
    shingles32 = shingles.astype(np.uint32)  # low 32 bits
    text, counts = text_windows(shingles32, params)
    story_values = story_hashes(norms, hashes, params)
    return SegmentSignatures(
        text=text,
        text_shingle_counts=counts,
        story=minhash(story_values, params),
        story_word_count=len(story_values),
        token_count=len(norms),
        fingerprints=winnow(shingles, params.fingerprint_window),
        shingles=shingles32,
    )


def winnow(shingles: np.ndarray, window: int) -> np.ndarray:
    """Winnowing fingerprints: the smallest hash of every ``window`` consecutive shingle
    hashes (the whole text when shorter), distinct and sorted. Any passage of ``window``
    shingles shares its window's fingerprint with every copy of it."""
    if len(shingles) <= window:
        return np.unique(shingles.min(keepdims=True)) if len(shingles) else shingles
    # The minimum of every run of ``window``, one shifted comparison at a time: the same
    # values as an argmin over a sliding-window view, at half the CPU (ingest signs each segment).
    count = len(shingles) - window + 1
    least = shingles[:count].copy()
    for shift in range(1, window):
        np.minimum(least, shingles[shift : shift + count], out=least)
    return np.unique(least)


# The interface of native.c this code calls (its INTERFACE constant).
NATIVE_INTERFACE = 2

try:  # the optional C extension (setup.py); without it the numpy code gives the same results
    from . import native as _extension
except ImportError:  # pragma: no cover - installed without a C compiler
    _extension = None
if getattr(_extension, "INTERFACE", None) != NATIVE_INTERFACE:  # an older build (or none)
    _extension = None


def has_native_step() -> bool:
    """Whether the optional C extension was built (``sign_natively`` answers)."""
    return _extension is not None


def sign_natively(
    norms: Sequence[str], params: SignatureParams = DEFAULT_PARAMS
) -> tuple[SegmentSignatures, np.ndarray] | None:
    """The signatures and the band buckets (``lsh.buckets`` but the fingerprints') from
    one native call, or None without the extension.

    The C code does what ``sign_tokens`` and ``lsh.buckets`` do, step for step (xxh64 of
    each token, shingle hashes, datasketch's affine32 MinHash of every window and of the
    story words, band hashes folded into buckets): 6-9x less CPU than the numpy code, which
    it reproduces bit for bit (tests/test_native.py). The winnowing fingerprints are picked
    here from the shingle hashes it returns; ``lsh.sign_with_buckets`` adds their buckets.
    """
    if _extension is None:
        return None
    a, b = permutations(params.num_perm, params.seed)
    try:
        text, counts, story, story_words, token_count, buckets, shingles = _extension.sign(
            "\0".join(norms).encode("utf-8"), len(norms), a.tobytes(), b.tobytes(),
            params.shingle_size, params.window_size, params.window_step,
            params.story_min_chars, params.story_max_repeats, params.story_min_words,
            params.text_bands, params.text_rows, params.story_bands, params.story_rows,
        )  # fmt: skip
    except ValueError:  # a token holding a NUL (never one of ``tokens.words``)
        return None
    # shingles: the 64-bit shingle hashes (``shingle_hashes``), so winnowing needs no
    # token hashed again in Python.
    shingles = np.frombuffer(shingles, dtype=np.uint64)
    signed = SegmentSignatures(
        text=np.frombuffer(text, dtype=np.uint32).reshape(-1, params.num_perm),
        text_shingle_counts=np.frombuffer(counts, dtype=np.int64),
        story=np.frombuffer(story, dtype=np.uint32),
        story_word_count=story_words,
        token_count=token_count,
        fingerprints=winnow(shingles, params.fingerprint_window),
        shingles=shingles.astype(np.uint32),
    )
    return signed, np.frombuffer(buckets, dtype=np.int64)


def sign_text(
    raw_text: str, kept_ranges: Sequence[tuple[int, int]], params: SignatureParams = DEFAULT_PARAMS
) -> SegmentSignatures:
    """Sign the kept ranges of a raw text (a segment as cleaning left it)."""
    norms = [token.norm for token in tokenize_ranges(raw_text, kept_ranges)]
    return sign_tokens(norms, params)


def text_windows(
    shingles32: np.ndarray, params: SignatureParams
) -> tuple[np.ndarray, np.ndarray]:
    """Window 0 and the token windows (``SegmentSignatures.text``) of a segment's shingle
    hashes (low 32 bits, text order), with their shingle counts."""
    count = len(shingles32)
    size, step = params.window_size, params.window_step
    if count < size + step:
        return minhash(shingles32, params)[None, :], np.array([count], dtype=np.int64)
    blocks = _block_minima(shingles32, step, params)
    blocks_per_window = size // step
    window_count = (count - size) // step + 1  # windows that start at a multiple of step
    windows = blocks[:window_count].copy()
    for offset in range(1, blocks_per_window):
        np.minimum(windows, blocks[offset : offset + window_count], out=windows)
    # The last window also takes the remainder (fewer than window_step shingles).
    for remainder in blocks[window_count - 1 + blocks_per_window :]:
        np.minimum(windows[-1], remainder, out=windows[-1])
    sizes = np.full(1 + window_count, size, dtype=np.int64)
    sizes[0], sizes[-1] = count, count - (window_count - 1) * step
    return np.vstack([blocks.min(axis=0), windows]), sizes


def _block_minima(values32: np.ndarray, block: int, params: SignatureParams) -> np.ndarray:
    """MinHash of each run of ``block`` values (the last run may be shorter).

    Every value is permuted under every permutation in one (rows x num_perm)
    uint32 matrix op; rows are padded with MAX_HASH to whole blocks so the
    per-block minimum is a single reshape-and-min. Long inputs go in chunks of
    whole blocks to bound memory.
    """
    a, b = permutations(params.num_perm, params.seed)
    mixed = fmix32(values32)
    chunk_rows = max(block, _ROWS_PER_CHUNK // block * block)
    minima = []
    for start in range(0, len(mixed), chunk_rows):
        chunk = mixed[start : start + chunk_rows]
        padded_rows = -(-len(chunk) // block) * block
        permuted = np.empty((padded_rows, params.num_perm), dtype=np.uint32)
        np.multiply(chunk[:, None], a, out=permuted[: len(chunk)])
        np.add(permuted[: len(chunk)], b, out=permuted[: len(chunk)])
        permuted[len(chunk) :] = MAX_HASH
        minima.append(permuted.reshape(-1, block, params.num_perm).min(axis=1))
    return minima[0] if len(minima) == 1 else np.vstack(minima)


# Odd 64-bit constant spreading occurrence numbers: the 2nd "Putin" is a new element.
_REPEAT_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def story_hashes(norms: Sequence[str], hashes: np.ndarray, params: SignatureParams) -> np.ndarray:
    """32-bit hashes of the segment's content words, one per occurrence up to a cap.

    Which words count, without per-language lists:

    * In spaced scripts, words shorter than ``story_min_chars`` (4) are dropped.
      Short words are the frequent ones in every language (Zipf's law of
      abbreviation: the/and/for, и/в/на/что, في/من/على, de/la/que), and they are
      what makes unrelated news stories look alike. On the seeds this moves the
      unrelated Canada story from 0.12 to 0.07 Jaccard with the summit story,
      while the summit's rewrites keep 0.16-0.30 with each other.
    * In unspaced scripts (Han, kana, Thai, ...) each character is a token, so
      the content "words" are pairs of adjacent characters instead.
    * Each occurrence counts, up to ``story_max_repeats``: the names and topic a
      story keeps repeating (Kim, Putin, satellite) weigh more than words used
      once in passing. On the seeds this lifts the weakest same-story pair from
      0.16 to 0.19 and leaves the Canada story at 0.07.

    A corpus-frequency stoplist was rejected: every signature must be made with
    the same list, so it would have to be frozen before the first segment is
    signed, when there is no corpus yet. Common words that remain are handled
    when reading: their band buckets grow large and ``index.candidates`` reads a
    bounded part of any bucket.
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
    """Distinct elements for the first ``max_repeats`` occurrences of each value."""
    if max_repeats == 1 or len(values) == 0:
        return np.unique(values)
    ordered = np.sort(values)
    positions = np.arange(len(ordered))
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    occurrence = positions - np.maximum.accumulate(np.where(first, positions, 0))
    keep = occurrence < max_repeats
    return ordered[keep] + occurrence[keep].astype(np.uint64) * _REPEAT_MULTIPLIER


def estimate_jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """Share of equal slots: datasketch's ``MinHash.jaccard`` on raw hash values."""
    if len(first) != len(second):
        raise ValueError("signatures of different lengths cannot be compared")
    return float(np.count_nonzero(first == second)) / len(first)


def jaccard_matrix(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of every row of ``first`` (m x P) with every row of ``second`` (n x P)."""
    return equal_slots(first[:, None, :] == second[None, :, :]) / first.shape[1]


# Adds the eight bytes of a uint64 into its top byte (their sum is at most 255 here).
_BYTE_SUM = np.uint64(0x0101010101010101)


def equal_slots(equal: np.ndarray) -> np.ndarray:
    """``np.count_nonzero(equal, axis=-1)`` of a boolean array, as int64, in a fraction of
    the time: its bytes (0 or 1) are added eight at a time as uint64 lanes. A storm's copy
    compares its windows with a thousand stored ones, 128 slots each."""
    slots = equal.shape[-1]
    if slots % 8 or slots > 255 or not equal.flags.c_contiguous:  # the sum fits a byte
        return np.count_nonzero(equal, axis=-1).astype(np.int64)
    lanes = equal.view(np.uint64).sum(axis=-1, dtype=np.uint64)  # each byte <= slots / 8
    return (lanes * _BYTE_SUM >> np.uint64(56)).astype(np.int64)


def estimate_containment(jaccard, size, other_size) -> np.ndarray:
    """Estimated share of a set found in another, from their Jaccard and sizes.

    |A & B| = J (|A| + |B|) / (1 + J), so containment(A in B) = |A & B| / |A|.
    """
    jaccard = np.asarray(jaccard, dtype=np.float64)
    shared = jaccard * (np.asarray(size) + other_size) / (1.0 + jaccard)
    return np.minimum(1.0, shared / np.maximum(size, 1))


def window_token_ranges(
    shingle_count: int, params: SignatureParams = DEFAULT_PARAMS
) -> list[tuple[int, int]]:
    """Token ``[start, end)`` of each text window, window 0 first (to map a window back to text)."""
    token_count = shingle_count + params.shingle_size - 1 if shingle_count else 0
    size, step = params.window_size, params.window_step
    if shingle_count < size + step:
        return [(0, token_count)]
    starts = range(0, shingle_count - size + 1, step)
    ranges = [(start, start + size + params.shingle_size - 1) for start in starts]
    ranges[-1] = (ranges[-1][0], token_count)  # the last window takes the remainder
    return [(0, token_count)] + ranges


def pack(values: np.ndarray) -> bytes:
    """A signature as a BLOB (little-endian uint32, see store.py)."""
    return np.asarray(values).astype(BLOB_DTYPE).tobytes()


def unpack(blob: bytes) -> np.ndarray:
    """A BLOB written by ``pack``, back as a uint32 signature."""
    return _narrow(np.frombuffer(blob, dtype=BLOB_DTYPE))


def unpack_many(blobs: Sequence[bytes], num_perm: int) -> np.ndarray:
    """Several BLOBs of ``num_perm`` values as one (len(blobs) x num_perm) uint32 matrix."""
    values = np.frombuffer(b"".join(blobs), dtype=BLOB_DTYPE)
    if values.size != len(blobs) * num_perm:
        raise ValueError(f"signature BLOBs are not all {num_perm} values long")
    return _narrow(values).reshape(len(blobs), num_perm)


def _narrow(values: np.ndarray) -> np.ndarray:
    return values.astype(np.uint32)  # native byte order (a copy: the BLOB's buffer is read-only)
