"""Estimate the candidate recall of the signature index (signatures.py + index.py).

    python benchmarks/lsh_recall.py                      # 300 documents, default params
    python benchmarks/lsh_recall.py --docs 1000 --seed 3
    python benchmarks/lsh_recall.py --params '{"window_step": 25}'

A synthetic corpus of pseudo-word documents (Zipf-like word frequencies, so
function words recur as in real text) mixes originals with derived documents:
whole copies, truncated copies, excerpts published on their own, and excerpts
wrapped in a long unrelated article, each with 0-12% of words changed.

Truth is brute force: for every pair, the share of the smaller document's word
shingles found in the other (its containment). Documents are then indexed one
at a time in random order, each looked up before it is added, as matching does.
Recall is the share of pairs with containment >= 0.5 in which the later
document's lookup returned the earlier one.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from datasette_provenance import store
from datasette_provenance.matching import index, lsh
from datasette_provenance.matching.tokens import shingle_hashes, token_hashes  # noqa: E402
from datasette_provenance.parameters import DEFAULT_PARAMS, SignatureParams
from datasette_provenance.matching.signatures import sign_tokens  # noqa: E402

CONTAINMENT_THRESHOLD = 0.5
EDIT_RATES = (0.0, 0.02, 0.05, 0.08, 0.12)


class Corpus:
    def __init__(self, rng: random.Random, vocabulary_size: int = 30000):
        self.rng = rng
        syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
        words = set()
        while len(words) < vocabulary_size:
            words.add("".join(rng.choice(syllables) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))))
        self.words = sorted(
            words, key=lambda word: (len(word), word)
        )  # short words are the frequent ones
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(vocabulary_size)]
        self.cumulative = list(itertools.accumulate(weights))

    def text(self, length: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cumulative, k=length)

    def length(self, low: int, high: int) -> int:
        return max(low, min(high, int(self.rng.lognormvariate(6.2, 0.6))))

    def edit(self, words: list[str], rate: float) -> list[str]:
        """Replace ``rate`` of the words; a quarter as many insertions and deletions."""
        edited = []
        for word in words:
            roll = self.rng.random()
            if roll < rate:
                edited.append(self.text(1)[0])
            elif roll < rate * 1.25:
                continue
            else:
                edited.append(word)
            if self.rng.random() < rate / 4:
                edited.append(self.text(1)[0])
        return edited


def make_documents(count: int, rng: random.Random) -> list[tuple[str, list[str]]]:
    corpus = Corpus(rng)
    originals = [corpus.text(corpus.length(60, 1800)) for _ in range(max(2, int(count * 0.35)))]
    documents = [("original", words) for words in originals]
    while len(documents) < count:
        source = rng.choice(originals)
        rate = rng.choice(EDIT_RATES)
        kind = rng.choice(("copy", "truncated", "excerpt", "wrapped", "unrelated"))
        if kind == "copy":
            words = corpus.edit(source, rate)
        elif kind == "truncated":
            words = corpus.edit(source[: max(40, int(len(source) * rng.uniform(0.3, 0.8)))], rate)
        elif kind in ("excerpt", "wrapped"):
            length = min(len(source), rng.randint(60, 400))
            start = rng.randint(0, len(source) - length)
            words = corpus.edit(source[start : start + length], rate)
            if kind == "wrapped":
                host = corpus.text(rng.randint(300, 1500))
                cut = rng.randint(0, len(host))
                words = host[:cut] + words + host[cut:]
        else:
            words = corpus.text(corpus.length(60, 1800))
        documents.append((f"{kind} {rate:.2f}", words))
    rng.shuffle(documents)
    return documents


def containments(documents, shingle_size: int) -> dict[tuple[int, int], float]:
    """Containment of the smaller shingle set in the other, for every pair sharing a shingle."""
    sets = [
        set(shingle_hashes(token_hashes(words), shingle_size).tolist()) for _, words in documents
    ]
    pairs = {}
    for first, second in itertools.combinations(range(len(sets)), 2):
        smaller = min(len(sets[first]), len(sets[second]))
        if smaller:
            shared = len(sets[first] & sets[second])
            if shared:
                pairs[(first, second)] = shared / smaller
    return pairs


def run(count: int, seed: int, params: SignatureParams) -> None:
    rng = random.Random(seed)
    documents = make_documents(count, rng)
    overlaps = containments(documents, params.shingle_size)
    with tempfile.TemporaryDirectory() as directory:
        db = store.connect(os.path.join(directory, "recall.db"))
        found, timings, candidate_counts = _index_all(db, documents, params)
        rows = db.execute("SELECT count(*) FROM lsh_bands").fetchone()[0]
        signature_bytes = db.execute("SELECT sum(length(hashvalues)) FROM signatures").fetchone()[0]
        db.conn.close()
    _report(documents, overlaps, found, timings, candidate_counts, rows, signature_bytes, params)


def _index_all(db, documents, params):
    found: dict[int, dict[str, lsh.CandidateHit]] = {}
    timings = defaultdict(float)
    candidate_counts = []
    with db.conn:
        index.check_params(db, params)
        for number, (kind, words) in enumerate(documents):
            db.conn.execute(
                "INSERT INTO articles (id, raw_text, clean_text, content_hash, word_count, "
                "ingested_at) VALUES (?, '', '', '', ?, '')",
                [str(number), len(words)],
            )
            db.conn.execute(
                "INSERT INTO segments (id, article_id, segment_number, start_char, end_char, "
                "clean_start, clean_end, word_count) VALUES (?, ?, 1, 0, 0, 0, 0, ?)",
                [f"{number}#1", str(number), len(words)],
            )
    for number, (_, words) in enumerate(documents):
        started = time.perf_counter()
        signatures = sign_tokens(words, params)
        timings["sign"] += time.perf_counter() - started
        started = time.perf_counter()
        found[number] = index.candidates(db, signatures, params)
        timings["lookup"] += time.perf_counter() - started
        candidate_counts.append(len(found[number]))
        started = time.perf_counter()
        with db.conn:
            index.add(db, f"{number}#1", signatures, params)
        timings["add"] += time.perf_counter() - started
    return found, timings, candidate_counts


def _report(documents, overlaps, found, timings, candidate_counts, rows, signature_bytes, params):
    count = len(documents)
    words = sum(len(words) for _, words in documents)
    truth = {pair: value for pair, value in overlaps.items() if value >= CONTAINMENT_THRESHOLD}
    print(f"params: {params.to_json()}")
    print(
        f"{count} documents, {words / count:.0f} words on average; "
        f"{len(truth)} pairs with containment >= {CONTAINMENT_THRESHOLD}"
    )
    _report_recall(documents, truth, found)
    _report_candidates(overlaps, found, candidate_counts)
    print(
        f"lsh_bands rows per document: {rows / count:.0f}; "
        f"signature bytes per document: {signature_bytes / count:.0f}"
    )
    for step in ("sign", "lookup", "add"):  # add includes a commit per document
        print(f"{step}: {timings[step] / count * 1e6:.0f} us per document")


def _report_recall(documents, truth, found):
    hits = {pair: f"{pair[0]}#1" in found[pair[1]] for pair in truth}
    by_text = [hits[pair] and found[pair[1]][f"{pair[0]}#1"].text_band_hits > 0 for pair in truth]
    print(f"recall: {_share(hits.values()):.4f} (text bands alone {_share(by_text):.4f})")
    by_containment = defaultdict(list)
    by_kinds = defaultdict(list)
    for (first, second), containment in truth.items():
        by_containment[min(0.9, int(containment * 10) / 10)].append(hits[(first, second)])
        kinds = sorted(documents[number][0].split()[0] for number in (first, second))
        by_kinds[" / ".join(kinds)].append(hits[(first, second)])
    for low in sorted(by_containment):
        share, total = _share(by_containment[low]), len(by_containment[low])
        print(f"  containment {low:.1f}-{min(1.0, low + 0.1):.1f}: {share:.4f} of {total}")
    for kinds in sorted(by_kinds):
        print(f"  {kinds:24s} {_share(by_kinds[kinds]):.4f} of {len(by_kinds[kinds])}")
    misses = sorted((-truth[pair], pair) for pair, hit in hits.items() if not hit)
    for negative_containment, (first, second) in misses[:10]:
        print(
            f"  missed: {documents[first][0]} ({len(documents[first][1])} words) / "
            f"{documents[second][0]} ({len(documents[second][1])} words), "
            f"containment {-negative_containment:.2f}"
        )
    scores = sorted(found[b][f"{a}#1"].best_window_jaccard for (a, b), hit in hits.items() if hit)
    print(
        f"best window Jaccard of the pairs found: min {scores[0]:.3f}, "
        f"1st percentile {scores[len(scores) // 100]:.3f}"
    )


def _report_candidates(overlaps, found, candidate_counts):
    """Candidates per lookup, and those sharing (almost) nothing with the document."""
    far = {"text": 0, "story": 0}
    for number, hits in found.items():
        for segment_id, hit in hits.items():
            if overlaps.get((int(segment_id.split("#")[0]), number), 0.0) < 0.1:
                far["text" if hit.text_band_hits else "story"] += 1
    count = len(candidate_counts)
    print(
        f"candidates per lookup: {sum(candidate_counts) / count:.2f}; with containment < 0.1: "
        f"{far['text'] / count:.2f} by text bands (passages shared by long documents), "
        f"{far['story'] / count:.2f} by story words only"
    )


def _share(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--params", default="{}", help="JSON overrides of SignatureParams fields")
    arguments = parser.parse_args()
    params = SignatureParams.from_dict({**DEFAULT_PARAMS.as_dict(), **json.loads(arguments.params)})
    run(arguments.docs, arguments.seed, params)


if __name__ == "__main__":
    main()
