"""Should signatures be computed with datasketch's own batch API? Measured, per CPU second.

    python benchmarks/datasketch_batch.py                # 2,000 synthetic articles
    python benchmarks/datasketch_batch.py --size 500 --repeats 5 --json out.json

On the same synthetic articles (``benchmarks/synthetic.py``) and the same 32-bit shingle
values, in one run:

* **window 0** (the whole-segment MinHash): ``matching.signatures.minhash`` against
  datasketch's ``MinHash.update_batch`` (one MinHash per article) and ``MinHash.bulk``
  (all articles in one call);
* **all signatures** the index stores (window 0, the overlapping token windows and the
  story signature): ``matching.signatures.sign_tokens`` against the same built from
  datasketch's ``update_batch``, one MinHash per window and one for the story words.

Every datasketch signature is checked equal, bit for bit, to ours before anything is
timed. Times are CPU seconds (``time.process_time``), best of ``--repeats``; the figures
are articles per CPU second and the ratio of ours to each datasketch way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from datasketch import MinHash  # noqa: E402

from benchmarks.synthetic import write_corpus  # noqa: E402
from datasette_provenance.matching import signatures  # noqa: E402
from datasette_provenance.matching.tokens import shingle_hashes, token_hashes, words  # noqa: E402
from datasette_provenance.parameters import DEFAULT_PARAMS  # noqa: E402


def identity(value: int) -> int:
    """Our shingle values are hashes already: datasketch applies its permutations to them."""
    return value


def articles(size: int) -> list[list[str]]:
    """The normalised words of ``size`` synthetic articles."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "corpus.jsonl")
        write_corpus(size, path)
        with open(path, encoding="utf-8") as handle:
            return [words(json.loads(line)["text"]) for line in handle]


def shingle_values(norms: list[str]) -> np.ndarray:
    """The 32-bit shingle values both sides sign (the low bits of our 64-bit hashes)."""
    return shingle_hashes(token_hashes(norms), DEFAULT_PARAMS.shingle_size).astype(np.uint32)


def story_values(norms: list[str]) -> np.ndarray:
    return signatures.story_hashes(norms, token_hashes(norms), DEFAULT_PARAMS)


def datasketch_minhash(values) -> MinHash:
    minhash = MinHash(num_perm=DEFAULT_PARAMS.num_perm, seed=DEFAULT_PARAMS.seed, hashfunc=identity)
    minhash.update_batch(values)
    return minhash


def datasketch_signatures(norms: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Window 0, every token window and the story signature, each its own datasketch MinHash."""
    values = shingle_values(norms).tolist()
    ranges = signatures.window_token_ranges(len(values), DEFAULT_PARAMS)
    extra = DEFAULT_PARAMS.shingle_size - 1
    text = [datasketch_minhash(values).hashvalues]
    text += [datasketch_minhash(values[start : end - extra]).hashvalues for start, end in ranges[1:]]
    return np.vstack(text), datasketch_minhash(story_values(norms).tolist()).hashvalues


def best_cpu(run, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best


def check_equal(documents: list[list[str]], values: list[np.ndarray]) -> None:
    """Bit-for-bit equality of every way measured, before any timing."""
    bulk = MinHash.bulk(
        [v.tolist() for v in values],
        num_perm=DEFAULT_PARAMS.num_perm, seed=DEFAULT_PARAMS.seed, hashfunc=identity,
    )  # fmt: skip
    for norms, value, from_bulk in zip(documents, values, bulk):
        ours = signatures.sign_tokens(norms, DEFAULT_PARAMS)
        assert np.array_equal(signatures.minhash(value, DEFAULT_PARAMS), from_bulk.hashvalues)
        assert np.array_equal(ours.text[0], datasketch_minhash(value.tolist()).hashvalues)
        text, story = datasketch_signatures(norms)
        assert np.array_equal(ours.text, text) and np.array_equal(ours.story, story)


def measure(size: int, repeats: int) -> dict:
    documents = articles(size)
    values = [shingle_values(norms) for norms in documents]
    as_lists = [v.tolist() for v in values]
    check_equal(documents[:200], values[:200])
    seconds = {
        "window0_ours_minhash": best_cpu(
            lambda: [signatures.minhash(v, DEFAULT_PARAMS) for v in values], repeats
        ),
        "window0_datasketch_update_batch": best_cpu(
            lambda: [datasketch_minhash(v) for v in as_lists], repeats
        ),
        "window0_datasketch_bulk": best_cpu(
            lambda: MinHash.bulk(
                as_lists, num_perm=DEFAULT_PARAMS.num_perm, seed=DEFAULT_PARAMS.seed,
                hashfunc=identity,
            ),
            repeats,
        ),  # fmt: skip
        "all_signatures_ours_sign_tokens": best_cpu(
            lambda: [signatures.sign_tokens(norms, DEFAULT_PARAMS) for norms in documents], repeats
        ),
        "all_signatures_datasketch_update_batch": best_cpu(
            lambda: [datasketch_signatures(norms) for norms in documents], repeats
        ),
    }
    per_cpu_second = {name: size / value for name, value in seconds.items()}
    ours = {"window0": "window0_ours_minhash", "all_signatures": "all_signatures_ours_sign_tokens"}
    ratios = {
        f"ours_vs_{name}": per_cpu_second[ours[name.split("_datasketch")[0]]] / value
        for name, value in per_cpu_second.items()
        if "datasketch" in name
    }
    return {
        "articles": size,
        "shingles_per_article": sum(len(v) for v in values) / size,
        "repeats": repeats,
        "articles_per_cpu_second": {k: round(v, 1) for k, v in per_cpu_second.items()},
        "ratios": {k: round(v, 2) for k, v in ratios.items()},
        "equal_bit_for_bit": True,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the figures here")
    options = parser.parse_args()
    result = measure(options.size, options.repeats)
    text = json.dumps(result, indent=2)
    print(text)
    if options.json:
        with open(options.json, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
