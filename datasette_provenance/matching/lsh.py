"""LSH band maths: band keys of a segment's signatures, and the pure steps that turn
the members of its buckets into scored candidates.

No storage here (as in datasketch, the algorithm apart from where it keeps its
buckets): ``index`` keeps the buckets in SQLite and runs these steps over what it
reads, and the Spark engine runs the same steps over what its joins bring. The
steps of a lookup, in order: counting the segments in the query's buckets
(``index.band_hits``, ``index.shared_fingerprints``), ``rank_band_hits``, ``scoring_pool`` (story signatures estimated),
``choose_for_scoring`` (text windows loaded), ``score_candidates``. What decides a
candidate is ``parameters.CandidateSettings``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

import numpy as np

from ..parameters import DEFAULT_CANDIDATES, MAX_BANDS, CandidateSettings, SignatureParams
from .signatures import (
    SegmentSignatures,
    estimate_containment,
    jaccard_matrix,
    sign_natively,
    sign_tokens,
)


@dataclass(frozen=True)
class CandidateHit:
    segment_id: str
    text_band_hits: int  # distinct text (band, hash) keys shared
    story_band_hits: int  # distinct story (band, hash) keys shared
    best_window_jaccard: float  # best estimated Jaccard over (query window, candidate window) pairs
    best_windows: tuple[int, int]  # (query window, candidate window) of best_window_jaccard
    containment: float  # best estimated share of the smaller window found in the larger
    story_jaccard: float  # estimated Jaccard of the story signatures (0 when either is empty)
    fingerprint_hits: int = 0  # winnowing fingerprints shared (0 below min_fingerprint_hits)

    @property
    def shares_text(self) -> bool:
        """Found by its text: a band of a window, or a short copy's fingerprints."""
        return bool(self.text_band_hits or self.fingerprint_hits)


# Odd 64-bit multipliers combining a band's rows into one 64-bit value.
_BAND_MULTIPLIERS = np.array(
    [
        0x9FB21C651E98DF25,
        0xD6E8FEB86659FD93,
        0xA0761D6478BD642F,
        0xE7037ED1A0B428DB,
        0x8EBC6AF09C88C6E3,
        0x589965CC75374CC3,
        0x1D8E4E27C47D124F,
        0xF1357AEA2E62A9C5,
    ],
    dtype=np.uint64,
)


# An lsh_index bucket: the band hash's top 54 bits, then the band number (9 bits,
# parameters.MAX_BANDS) and the kind (1 bit: story). Two different bands collide
# with probability ~2**-54.
BUCKET_LOW_BITS = 10
_KIND_BITS = {"text": 0, "story": 1}
_KINDS = ("text", "story")

# Winnowing fingerprints (signatures.winnow) live in the text kind's last band number,
# which no LSH band uses (text_bands < MAX_BANDS): their bucket is the fingerprint's top
# 54 bits. Members found there are counted apart from band hits.
FINGERPRINT_BAND = MAX_BANDS - 1


# ----------------------------------------------------------------------------- bands


def band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(windows x bands) signed 64-bit hash of each band's ``rows`` values.

    A multilinear combination with odd 64-bit constants, then the splitmix64
    finaliser; vectorised over every window and band at once (a per-band xxh64
    call would cost more than the whole MinHash). Two different bands of 32-bit
    values collide with probability ~2**-64.
    """
    signatures = np.atleast_2d(signatures)
    values = signatures[:, : bands * rows].astype(np.uint64).reshape(len(signatures), bands, rows)
    combined = (values * _BAND_MULTIPLIERS[:rows]).sum(axis=2, dtype=np.uint64)
    return _splitmix64(combined).view(np.int64)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over uint64 values (a new array)."""
    values = values ^ (values >> np.uint64(30))
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    values ^= values >> np.uint64(31)
    return values


def band_keys(signatures: SegmentSignatures, params: SignatureParams) -> list[tuple[str, int, int]]:
    """The segment's distinct (kind, band, hash) keys: text windows' bands and story bands.

    ``hash`` is the band hash's top 54 bits (what an ``lsh_index`` bucket keeps).
    """
    return [bucket_key(bucket) for bucket in buckets(signatures, params).tolist()]


def buckets(signatures: SegmentSignatures, params: SignatureParams) -> np.ndarray:
    """The segment's distinct ``lsh_index`` buckets (int64): ``band_keys`` folded.

    Text buckets first, then story buckets, then fingerprints, each in increasing order.
    """
    parts = []
    windows = signatures.banded_windows
    if len(windows):
        text = band_hashes(signatures.text[windows], params.text_bands, params.text_rows)
        parts.append(np.unique(_fold(text, _KIND_BITS["text"])))
    if signatures.story_word_count >= params.story_min_words:
        story = band_hashes(signatures.story, params.story_bands, params.story_rows)
        story = in_story_window(_fold(story, _KIND_BITS["story"]), signatures.story_window)
        parts.append(np.unique(story))
    parts.append(fingerprint_buckets(signatures))
    return np.concatenate(parts)


# ----------------------------------------------------------------------------- story windows


def story_window(published: str | None, params: SignatureParams) -> int:
    """The publication window a segment's story bands are keyed by: 1 + days since year 1
    // ``params.story_window_days``, from an ISO date (a date-time's own calendar day);
    0 when undated, dated less precisely than a day, or windows are off."""
    if not published or not params.story_window_days:
        return 0
    try:
        day = dt.date.fromisoformat(published.strip()[:10])
    except ValueError:
        return 0
    return 1 + day.toordinal() // params.story_window_days


def story_windows_to_read(window: int, archive_windows: Iterable[int]) -> list[int]:
    """The windows a lookup reads story buckets in: its own, both neighbours and the
    undated one; an undated segment reads every window of the archive."""
    if window == 0:
        return sorted({0, *archive_windows})
    return sorted({0, window - 1, window, window + 1})


def in_story_window(story_buckets: np.ndarray, window: int) -> np.ndarray:
    """Story buckets keyed by a publication window: each bucket's hash bits mixed with the
    window number (splitmix64), band and kind kept. Window 0 (undated) leaves them as they
    are, so a database signed without windows reads the same."""
    if window == 0:
        return story_buckets
    low = np.int64((1 << BUCKET_LOW_BITS) - 1)
    mixed = (story_buckets >> BUCKET_LOW_BITS).view(np.uint64) ^ np.uint64(
        (window * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    )
    mixed = _splitmix64(mixed).view(np.int64)
    return (mixed >> BUCKET_LOW_BITS) << BUCKET_LOW_BITS | (story_buckets & low)


def lookup_buckets(
    signatures: SegmentSignatures, params: SignatureParams, archive_windows: Iterable[int] = ()
) -> np.ndarray:
    """The buckets a lookup of this segment reads: its own text and fingerprint buckets,
    and its story buckets in every window of ``story_windows_to_read``."""
    undated = buckets(replace(signatures, story_window=0), params)
    story = story_mask(undated)
    return np.concatenate([
        undated[~story],
        story_lookup_buckets(undated[story], signatures.story_window, archive_windows),
    ])  # fmt: skip


def story_lookup_buckets(
    undated_story_buckets: np.ndarray, window: int, archive_windows: Iterable[int] = ()
) -> np.ndarray:
    """The story buckets a lookup reads: the segment's story buckets as undated (window 0)
    keyed by each window of ``story_windows_to_read``."""
    windows = story_windows_to_read(window, archive_windows)
    return np.concatenate(
        [in_story_window(undated_story_buckets, each) for each in windows]
        or [np.zeros(0, dtype=np.int64)]
    )


def story_mask(buckets: np.ndarray) -> np.ndarray:
    """Which of these buckets are story buckets (bool array)."""
    return buckets & 1 == _KIND_BITS["story"]


def fingerprint_buckets(signatures: SegmentSignatures) -> np.ndarray:
    """The buckets of the segment's winnowing fingerprints, in increasing order."""
    fingerprints = signatures.fingerprints.astype(np.uint64).view(np.int64)
    band = np.int64(FINGERPRINT_BAND << 1 | _KIND_BITS["text"])
    return np.unique((fingerprints >> BUCKET_LOW_BITS) << BUCKET_LOW_BITS | band)


def sign_with_buckets(
    norms: Sequence[str], params: SignatureParams, story_window: int = 0
) -> tuple[SegmentSignatures, np.ndarray]:
    """``signatures.sign_tokens`` and ``buckets`` in one step: one native call when the
    extension is built, the numpy code otherwise (the same values). ``story_window``:
    the segment's publication window (``story_window``)."""
    found = sign_natively(norms, params)
    if found is None:
        signed = replace(sign_tokens(norms, params, native=False), story_window=story_window)
        return signed, buckets(signed, params)
    signed, band_buckets = found
    signed = replace(signed, story_window=story_window)
    story = story_mask(band_buckets)
    story_buckets = np.unique(in_story_window(band_buckets[story], story_window))
    return signed, np.concatenate(
        [band_buckets[~story], story_buckets, fingerprint_buckets(signed)]
    )


def _fold(hashes: np.ndarray, kind_bit: int) -> np.ndarray:
    """(windows x bands) band hashes -> buckets: hash top bits | band | kind."""
    bands = np.arange(hashes.shape[1], dtype=np.int64) << 1 | kind_bit
    return ((hashes >> BUCKET_LOW_BITS) << BUCKET_LOW_BITS | bands).ravel()


def bucket_key(bucket: int) -> tuple[str, int, int]:
    return (bucket_kind(bucket), (bucket >> 1) & 511, bucket >> BUCKET_LOW_BITS)


def fingerprint_mask(buckets: np.ndarray) -> np.ndarray:
    """Which of these buckets hold fingerprints (``bucket_kind`` is "fingerprint")."""
    band = np.int64(FINGERPRINT_BAND << 1 | _KIND_BITS["text"])
    return (buckets & ((1 << BUCKET_LOW_BITS) - 1)) == band


def bucket_kind(bucket: int) -> str:
    """'text', 'story' or 'fingerprint': what sharing the bucket means."""
    if bucket & 1 == _KIND_BITS["text"] and (bucket >> 1) & 511 == FINGERPRINT_BAND:
        return "fingerprint"
    return _KINDS[bucket & 1]


# ----------------------------------------------------------------------------- candidates


def rank_band_hits(
    text_hits: Counter[str],
    story_hits: Counter[str],
    fingerprint_hits: Counter[str] | None = None,
) -> tuple[list[str], list[str]]:
    """Segments with text evidence (band hits, then shared fingerprints; most first), and
    those with story band hits only. A segment sharing only fingerprints (a short copy) is
    in ``text_hits`` with 0 band hits."""
    fingerprint_hits = fingerprint_hits or Counter()
    story_only = sorted(set(story_hits) - set(text_hits), key=lambda s: (-story_hits[s], s))
    text_first = sorted(
        text_hits, key=lambda s: (-text_hits[s], -fingerprint_hits[s], -story_hits[s], s)
    )
    return text_first, story_only


def group_end(
    ranked: Sequence[str], position: int, limit: int, ranks: tuple[Counter[str], ...]
) -> int:
    """Where a prefix of ``ranked`` (``rank_band_hits``'s text first) of at least
    ``position`` segments, and at most ``limit``, ends without splitting a group of
    segments equal in every one of ``ranks`` (Counters: text band hits, shared
    fingerprints). ``pairs.best_candidates`` ranks candidates sharing text by those first:
    none after the prefix can rank before one in it."""
    end = min(position, limit)
    if end <= 0:
        return 0
    last = [counts[ranked[end - 1]] for counts in ranks]
    while end < limit and [counts[ranked[end]] for counts in ranks] == last:
        end += 1
    return end


def scoring_pool(
    text_first: list[str],
    story_only: list[str],
    settings: CandidateSettings = DEFAULT_CANDIDATES,
) -> list[str]:
    """The segments whose story Jaccard is estimated."""
    return (text_first + story_only)[: settings.max_scored_candidates]


def choose_for_scoring(
    text_first: list[str],
    story_only: list[str],
    story_jaccards: dict[str, float],
    settings: CandidateSettings = DEFAULT_CANDIDATES,
) -> list[str]:
    """The segments whose text windows are loaded and scored."""
    floor = settings.story_min_jaccard
    story_passed = [s for s in story_only if story_jaccards.get(s, 0.0) >= floor]
    return (text_first + story_passed)[: settings.max_scored_candidates]


def estimate_story_jaccards(
    query: SegmentSignatures, segment_ids: Sequence[str], stories: np.ndarray
) -> dict[str, float]:
    """Estimated story Jaccard with stored story signatures (rows of ``stories``, with words)."""
    if not query.story_word_count or not len(segment_ids):
        return {}
    shares = np.count_nonzero(stories == query.story, axis=1) / len(query.story)
    return dict(zip(segment_ids, shares.tolist()))


def score_candidates(
    query: SegmentSignatures,
    windows: dict[str, tuple[np.ndarray, np.ndarray]],
    text_hits: Counter[str],
    story_hits: Counter[str],
    story_jaccards: dict[str, float],
    settings: CandidateSettings = DEFAULT_CANDIDATES,
    fingerprint_hits: Counter[str] | None = None,
) -> dict[str, CandidateHit]:
    """Score chosen segments from their (text windows, shingle counts); keep those that pass.

    Every window pair of every candidate in one matrix operation (the query's windows
    against all candidates' windows side by side), then each candidate's block of it: a
    storm's copy scores hundreds of candidates, and a call per candidate cost more than
    the arithmetic."""
    if not windows:
        return {}
    fingerprint_hits = fingerprint_hits or Counter()
    segment_ids = list(windows)
    values = np.concatenate([windows[segment_id][0] for segment_id in segment_ids])
    sizes = np.concatenate([windows[segment_id][1] for segment_id in segment_ids])
    bounds = np.cumsum([0] + [len(windows[segment_id][0]) for segment_id in segment_ids])
    jaccards = jaccard_matrix(query.text, values)
    query_sizes = query.text_shingle_counts[:, None]
    stored_sizes = sizes[None, :]
    smaller, larger = np.minimum(query_sizes, stored_sizes), np.maximum(query_sizes, stored_sizes)
    containment = estimate_containment(jaccards, smaller, larger)
    best_containment = np.maximum.reduceat(containment.max(axis=0), bounds[:-1])
    best, query_windows, stored_windows = _best_window_pairs(jaccards, bounds)
    found = {}
    for number, segment_id in enumerate(segment_ids):
        hit = CandidateHit(
            segment_id=segment_id,
            text_band_hits=text_hits[segment_id],
            story_band_hits=story_hits[segment_id],
            best_window_jaccard=best[number],
            best_windows=(query_windows[number], stored_windows[number]),
            containment=float(best_containment[number]),
            story_jaccard=story_jaccards.get(segment_id, 0.0),
            fingerprint_hits=fingerprint_hits[segment_id],
        )
        if (
            hit.best_window_jaccard >= settings.text_min_jaccard
            or hit.fingerprint_hits
            or hit.story_jaccard >= settings.story_min_jaccard
        ):
            found[segment_id] = hit
    return found


def _best_window_pairs(jaccards: np.ndarray, bounds: np.ndarray) -> tuple[list, list, list]:
    """Each candidate's best (Jaccard, query window, its window): the first maximum of its
    block of columns in row order, as ``np.argmax`` of the block finds it, for all blocks
    at once."""
    column_best = jaccards.max(axis=0)
    first_row = jaccards.argmax(axis=0)
    starts = bounds[:-1]
    best = np.maximum.reduceat(column_best, starts)
    block = np.repeat(np.arange(len(starts)), np.diff(bounds))
    columns = np.arange(jaccards.shape[1]) - starts[block]
    width = int(np.diff(bounds).max()) if len(starts) else 1
    # Row-major position in the block of each column's first best, where it is the block's.
    position = np.where(
        column_best == best[block], first_row * width + columns, np.iinfo(np.int64).max
    )
    first = np.minimum.reduceat(position, starts)
    return best.tolist(), (first // width).tolist(), (first % width).tolist()
