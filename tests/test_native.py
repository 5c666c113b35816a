"""The native tokens-to-band-keys step gives exactly what the numpy code gives (and datasketch)."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
from datasketch import MinHash

from datasette_provenance.matching import lsh, signatures
from datasette_provenance.matching.tokens import shingle_hashes, token_hashes, words
from datasette_provenance.parameters import DEFAULT_PARAMS, SignatureParams

from .conftest import SEEDS_DIR

needs_native = pytest.mark.skipif(
    not signatures.has_native_step(), reason="the optional C extension was not built here"
)

ALPHABETS = ("abcdefgh", "éüßøåñ", "北京東京大阪", "ไทยภาษา", "aé北ไ")


def numpy_signing(norms, params, story_window=0):
    signed = signatures.sign_tokens(norms, params, native=False)
    signed = replace(signed, story_window=story_window)
    return signed, lsh.buckets(signed, params)


def random_norms(rng: random.Random) -> list[str]:
    count = rng.choice([0, 1, 2, 4, 5, 6, 30, 149, 150, 151, 199, 200, 201, 600, 2000])
    alphabet = rng.choice(ALPHABETS)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7))) for _ in range(count)]


def assert_same(first, second):
    (signed, keys), (other, other_keys) = first, second
    assert np.array_equal(signed.text, other.text)
    assert np.array_equal(signed.text_shingle_counts, other.text_shingle_counts)
    assert np.array_equal(signed.story, other.story)
    assert signed.story_word_count == other.story_word_count
    assert signed.token_count == other.token_count
    assert np.array_equal(signed.fingerprints, other.fingerprints)
    assert signed.story_window == other.story_window
    assert signed.fingerprints.dtype == other.fingerprints.dtype == np.uint64
    assert np.array_equal(keys, other_keys) and keys.dtype == other_keys.dtype == np.int64


@needs_native
@pytest.mark.parametrize("seed", range(8))
def test_native_equals_numpy_on_random_token_lists(seed):
    rng = random.Random(seed)
    params = rng.choice([DEFAULT_PARAMS, SignatureParams(num_perm=64, seed=7, text_bands=16,
                         text_rows=4, story_bands=32, story_rows=2, story_max_repeats=1,
                         window_size=40, window_step=20, shingle_size=3,
                         fingerprint_window=7)])  # fmt: skip
    for _ in range(60):
        norms = random_norms(rng)
        window = rng.choice([0, 1, 105_573])  # undated, the first window, a 2024 one
        assert_same(
            lsh.sign_with_buckets(norms, params, window), numpy_signing(norms, params, window)
        )


@needs_native
def test_native_equals_numpy_and_datasketch_on_the_seeds():
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        norms = words(path.read_text(encoding="utf-8"))
        native = lsh.sign_with_buckets(norms, DEFAULT_PARAMS)
        assert_same(native, numpy_signing(norms, DEFAULT_PARAMS))
        values = [int(v) & 0xFFFFFFFF for v in shingle_hashes(token_hashes(norms), 5)]
        reference = MinHash(num_perm=128, seed=1, hashfunc=lambda value: value)
        reference.update_batch(values)
        assert np.array_equal(native[0].text[0], reference.hashvalues)


@needs_native
def test_native_token_hashes_are_xxh64():
    norms = ["", "a", "abcdefgh", "x" * 31, "y" * 32, "z" * 33, "北京", "é" * 40]
    expected = token_hashes(norms)
    found = np.frombuffer(signatures._extension.token_hashes("\0".join(norms).encode()), np.uint64)
    assert np.array_equal(found, expected)


@needs_native
def test_native_shingle_hashes_are_the_numpy_ones():
    rng = random.Random(5)
    a, b = signatures.permutations(DEFAULT_PARAMS.num_perm, DEFAULT_PARAMS.seed)
    p = DEFAULT_PARAMS
    for _ in range(40):
        norms = random_norms(rng)
        found = signatures._extension.sign(
            "\0".join(norms).encode(), len(norms), a.tobytes(), b.tobytes(), p.shingle_size,
            p.window_size, p.window_step, p.story_min_chars, p.story_max_repeats,
            p.story_min_words, p.text_bands, p.text_rows, p.story_bands, p.story_rows,
        )[-1]  # fmt: skip
        expected = shingle_hashes(token_hashes(norms), p.shingle_size) if norms else []
        assert np.array_equal(np.frombuffer(found, np.uint64), np.asarray(expected, np.uint64))


def test_an_older_build_of_the_extension_is_not_used():
    assert signatures.NATIVE_INTERFACE == 2
    assert not signatures.has_native_step() or signatures._extension.INTERFACE == 2


def test_a_token_with_a_nul_falls_back_to_numpy():
    norms = ["abc", "de\0f", "ghij"] * 40
    assert_same(lsh.sign_with_buckets(norms, DEFAULT_PARAMS), numpy_signing(norms, DEFAULT_PARAMS))


def test_without_the_extension_the_numpy_code_answers(monkeypatch):
    monkeypatch.setattr(signatures, "_extension", None)
    norms = words(next(SEEDS_DIR.glob("000_*.txt")).read_text(encoding="utf-8"))
    assert_same(lsh.sign_with_buckets(norms, DEFAULT_PARAMS), numpy_signing(norms, DEFAULT_PARAMS))


@needs_native
def test_the_seeds_ingested_without_the_extension_give_the_same_database(
    seeds_db_path, tmp_path, monkeypatch
):
    from datasette_provenance import ingest

    from .conftest import seed_paths
    from .db_compare import differences

    monkeypatch.setattr(signatures, "_extension", None)
    path = tmp_path / "numpy.db"
    ingest.ingest(str(path), seed_paths(), manifest=str(SEEDS_DIR / "manifest.csv"))
    assert differences(seeds_db_path, path) == {}
