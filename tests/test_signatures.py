"""MinHash signatures: bit-for-bit datasketch equality, windows, story words, params, BLOBs."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash

from datasette_provenance.matching import tokens
from datasette_provenance.matching.tokens import (
    shingle_hashes,
    token_hashes,
    tokenize,
    tokenize_ranges,
    words,
)
from datasette_provenance.matching.signatures import (
    MAX_HASH,
    estimate_containment,
    estimate_jaccard,
    jaccard_matrix,
    minhash,
    pack,
    permutations,
    sign_tokens,
    unpack,
    unpack_many,
    window_token_ranges,
)
from datasette_provenance.parameters import DEFAULT_PARAMS, ParamsError, SignatureParams

from .conftest import SEEDS_DIR


def seed_text(prefix: str) -> str:
    return next(SEEDS_DIR.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def random_words(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 8))) for _ in range(count)
    ]


def identity(value: int) -> int:
    return value


def datasketch_minhash(values32, params=DEFAULT_PARAMS, batch=True) -> np.ndarray:
    reference = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=identity)
    if batch:
        reference.update_batch(values32)
    else:
        for value in values32:
            reference.update(value)
    return reference.hashvalues


def low32(hashes: np.ndarray) -> list[int]:
    return [int(value) & 0xFFFFFFFF for value in hashes]


# ----------------------------------------------------------------------------- datasketch


def test_permutations_are_datasketchs():
    for num_perm, seed in ((128, 1), (64, 42), (256, 7)):
        a, b = permutations(num_perm, seed)
        reference_a, reference_b = MinHash(num_perm=num_perm, seed=seed).permutations
        assert np.array_equal(a, reference_a) and np.array_equal(b, reference_b)


def test_whole_segment_signature_equals_datasketch_bit_for_bit():
    norms = words(seed_text("000"))
    shingle_values = low32(shingle_hashes(token_hashes(norms), DEFAULT_PARAMS.shingle_size))
    signed = sign_tokens(norms)
    expected = datasketch_minhash(shingle_values)
    assert signed.text[0].dtype == expected.dtype == np.uint32
    assert np.array_equal(signed.text[0], expected)
    assert np.array_equal(signed.text[0], datasketch_minhash(shingle_values, batch=False))


def test_every_window_equals_datasketch_over_its_shingles():
    norms = words(seed_text("002"))
    shingle_values = low32(shingle_hashes(token_hashes(norms), DEFAULT_PARAMS.shingle_size))
    signed = sign_tokens(norms)
    ranges = window_token_ranges(signed.shingle_count)
    assert len(ranges) == len(signed.text) > 20
    extra = DEFAULT_PARAMS.shingle_size - 1
    for values, (start, end) in zip(signed.text, ranges):
        assert np.array_equal(values, datasketch_minhash(shingle_values[start : end - extra]))


def test_other_params_and_extreme_values_equal_datasketch():
    params = SignatureParams(num_perm=64, seed=99, text_bands=16, story_bands=32)
    values = [0, 1, 0xFFFFFFFF, 0x80000000, 12345] + random.Random(1).sample(range(1 << 32), 500)
    assert np.array_equal(minhash(np.array(values), params), datasketch_minhash(values, params))


GOLDEN_TEXT = (
    "North Korean leader Kim Jong Un and Russian president Vladimir Putin met for a rare "
    "summit on Wednesday at which they discussed military matters."
)


def test_stored_values_never_change_silently():
    """Databases keep signatures: a change here needs a params change and a rebuild."""
    signed = sign_tokens(words(GOLDEN_TEXT))
    assert signed.text[0][:4].tolist() == [258301262, 200876207, 76851511, 112410500]
    assert signed.story[:4].tolist() == [286342242, 98952965, 197079707, 130455044]
    assert signed.story_word_count == 16


def test_empty_and_tiny_segments():
    empty = sign_tokens([])
    assert empty.shingle_count == 0 and empty.token_count == 0 and empty.window_count == 0
    assert np.all(empty.text == MAX_HASH)
    assert np.array_equal(empty.text[0], MinHash(num_perm=128).hashvalues)  # datasketch's empty
    assert len(empty.banded_windows) == 0
    tiny = sign_tokens(["only", "three", "words"])
    assert tiny.shingle_count == 1 and list(tiny.banded_windows) == [0]


# ----------------------------------------------------------------------------- windows


@pytest.mark.parametrize("token_count", [104, 153, 154, 155, 203, 250, 1000, 1037])
def test_windows_cover_the_segment(token_count):
    params = DEFAULT_PARAMS
    signed = sign_tokens(random_words(token_count), params)
    shingle_count = token_count - params.shingle_size + 1
    ranges = window_token_ranges(shingle_count, params)
    assert signed.shingle_count == shingle_count and len(ranges) == len(signed.text)
    if shingle_count < params.window_size + params.window_step:
        assert signed.window_count == 0 and list(signed.banded_windows) == [0]
        return
    assert list(signed.banded_windows) == list(range(1, len(signed.text)))
    starts = [start for start, _ in ranges[1:]]
    assert starts == list(range(0, starts[-1] + 1, params.window_step))
    assert ranges[-1][1] == token_count  # the last window reaches the last token
    sizes = list(signed.text_shingle_counts[1:])
    assert sizes[:-1] == [params.window_size] * (len(sizes) - 1)
    assert params.window_size <= sizes[-1] < params.window_size + params.window_step
    extra = params.shingle_size - 1
    assert sizes == [end - start - extra for start, end in ranges[1:]]


def test_long_segments_are_signed_in_bounded_chunks(monkeypatch):
    from datasette_provenance.matching import signatures

    norms = random_words(3000, seed=5)
    whole = sign_tokens(norms)
    monkeypatch.setattr(signatures, "_ROWS_PER_CHUNK", 120)  # not a multiple of anything
    chunked = sign_tokens(norms)
    assert np.array_equal(whole.text, chunked.text) and np.array_equal(whole.story, chunked.story)


def test_a_copied_passage_matches_a_window_of_the_long_article():
    host = random_words(1200, seed=1)
    passage = random_words(150, seed=2)
    long_article = sign_tokens(host[:600] + passage + host[600:])
    short_copy = sign_tokens(passage)
    assert short_copy.window_count == 0
    best = jaccard_matrix(short_copy.text, long_article.text).max()
    assert best > 0.5  # window 0 of the long article alone would give ~0.1
    assert estimate_jaccard(short_copy.text[0], long_article.text[0]) < 0.25


@pytest.mark.parametrize("slots", [128, 64, 8, 248, 256, 100, 3])
def test_equal_slots_are_counted_as_count_nonzero_counts_them(slots):
    from datasette_provenance.matching.signatures import equal_slots

    rng = np.random.default_rng(slots)
    first = rng.integers(0, 3, (4, slots)).astype(np.uint32)
    second = rng.integers(0, 3, (9, slots)).astype(np.uint32)
    for equal in (first[:, None, :] == second[None, :, :], np.ones((2, 3, slots), dtype=bool)):
        assert np.array_equal(equal_slots(equal), np.count_nonzero(equal, axis=-1))
    assert np.array_equal(
        jaccard_matrix(first, second),
        np.count_nonzero(first[:, None, :] == second[None, :, :], axis=2) / slots,
    )


# ----------------------------------------------------------------------------- story words


def test_story_words_drop_short_words_and_count_repeats():
    params = SignatureParams(story_max_repeats=2)
    signed = sign_tokens("the kremlin and the kremlin and the kremlin said no".split(), params)
    assert signed.story_word_count == 3  # kremlin twice (capped), said once


def test_story_words_in_unspaced_scripts_are_character_pairs():
    norms = words("俄罗斯总统普京会见朝鲜领导人")
    assert len(norms) == 14  # one token per character
    assert sign_tokens(norms).story_word_count == 13


def test_story_signatures_separate_the_summit_rewrites_from_the_canada_story():
    reuters = seed_text("000")
    copy_with_canada = seed_text("003")
    split = copy_with_canada.index("Canada Liberals Vote")
    summit = {
        "000": reuters,
        "001": seed_text("001"),
        "002": seed_text("002"),
        "003": copy_with_canada[:split],
        "004": seed_text("004"),
    }
    signed = {name: sign_tokens(words(text)) for name, text in summit.items()}
    canada = sign_tokens(words(copy_with_canada[split:]))
    for name in ("001", "002", "003", "004"):
        assert estimate_jaccard(signed["000"].story, signed[name].story) >= 0.16
        assert estimate_jaccard(signed[name].story, canada.story) <= 0.07
    assert estimate_jaccard(signed["000"].story, canada.story) <= 0.07


# ----------------------------------------------------------------------------- helpers


def test_estimates():
    assert estimate_jaccard(np.arange(4), np.array([0, 1, 9, 9])) == 0.5
    with pytest.raises(ValueError):
        estimate_jaccard(np.arange(4), np.arange(5))
    # A 100-set inside a 300-set: J = 1/3, containment of the smaller = 1.
    assert estimate_containment(1 / 3, 100, 300) == pytest.approx(1.0)
    assert estimate_containment(1 / 3, 300, 100) == pytest.approx(1 / 3)


def test_blob_round_trip_is_little_endian_uint32():
    signature = sign_tokens(words(seed_text("001"))).text[0]
    blob = pack(signature)
    assert len(blob) == 4 * DEFAULT_PARAMS.num_perm
    assert int.from_bytes(blob[:4], "little") == int(signature[0])
    assert np.array_equal(unpack(blob), signature) and unpack(blob).dtype == np.uint32
    assert np.array_equal(unpack_many([blob, blob], 128), np.vstack([signature, signature]))
    with pytest.raises(ValueError):
        unpack(blob[:6])  # not whole 32-bit values
    with pytest.raises(ValueError):
        unpack_many([blob, blob[:8]], 128)


def test_params_json_round_trip_and_validation():
    params = SignatureParams(window_size=120, window_step=40)
    assert SignatureParams.from_json(params.to_json()) == params
    assert SignatureParams.from_json(DEFAULT_PARAMS.to_json()) == DEFAULT_PARAMS
    with pytest.raises(ParamsError, match="unknown signature params: colour"):
        SignatureParams.from_dict({**DEFAULT_PARAMS.as_dict(), "colour": 1})
    with pytest.raises(ParamsError, match="multiple of window_step"):
        SignatureParams(window_size=100, window_step=30)
    with pytest.raises(ParamsError, match="text_bands x text_rows"):
        SignatureParams(text_bands=64, text_rows=3)
    with pytest.raises(ParamsError, match="scheme"):
        SignatureParams(scheme="legacy")


def test_a_database_signed_under_older_word_rules_must_be_re_signed():
    older = {k: v for k, v in DEFAULT_PARAMS.as_dict().items() if k != "tokenizer"}
    with pytest.raises(ParamsError, match="word rules version 1"):
        SignatureParams.from_dict(older)  # recorded before the tokenizer version existed


# ----------------------------------------------------------------------------- shingles.py


# The word pattern written plainly (one alternation with a lookahead per character): the
# unrolled one the tokenizer uses for speed must match the same spans.
def original_word_pattern() -> str:
    continues = rf"[\w{tokens.MARKS}\u200c\u200d]"
    return rf"[^\W_](?:{continues}|['’.](?=[^\W_]))*"


def test_fast_tokenizer_paths_match_the_original_rules():
    import re

    original = re.compile(original_word_pattern())
    rng = random.Random(11)
    alphabet = list(
        "abcXYZ019_'’. .-\u0301éÉßﬁ\uff21中文かなไทยمرحباпривет\u064e\n\t,;İ"
        "दिल्ली\u200c\u200dكيهة٣۳\u0653\u0e48"
    )
    texts = [seed_text(prefix) for prefix in ("000", "002", "004")]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(3000)]
    ascii_alphabet = list("abcXYZ019_'. .-\n\t,;")
    texts += ["".join(rng.choice(ascii_alphabet) for _ in range(rng.randint(1, 60))) for _ in range(1000)]
    for text in texts:
        assert tokens._WORD.findall(text) == original.findall(text)
        if text.isascii():  # the ASCII path's own pattern
            assert tokens._ASCII_WORD.findall(text) == original.findall(text)
        for word in original.findall(text):
            if word.isascii():
                assert tokens._normalize_ascii(word) == tokens.normalize_word(word)
        norms = [token.norm for token in tokenize(text)]
        assert words(text) == norms
        ranges = [(0, len(text) // 3), (len(text) // 2, len(text))]
        assert tokens.words_in_ranges(text, ranges) == [
            t.norm for t in tokenize_ranges(text, ranges)
        ]
    assert [token.norm for token in tokenize("U.S. officials' Russia's l’État")] == [
        "us",
        "officials",
        "russias",
        "letat",
    ]
