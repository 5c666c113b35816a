"""A deterministic synthetic news corpus with known lineage.

    python benchmarks/synthetic.py --size 10000 --out corpus.jsonl --truth truth.csv

Each story has a wire original (about 600 words) and a random mix of:

* ``verbatim``     reprints with style edits (U.S.->US style token swaps) and page furniture,
* ``light_edit``   copies with ~8 % of words changed and a few sentences dropped,
* ``paraphrase``   sentences reordered locally and ~45 % of words replaced by synonyms,
* ``shared_quotes`` new text about the same story that repeats the original's quotations,
* ``independent``  new text about the same story (same names, no copying),

plus unrelated articles from other stories, and on request a syndication storm (``storm``):
one wire story republished by hundreds of outlets. Words are pronounceable pseudo-words with a
Zipf-like frequency so that common "function words" recur as in real text. The same seed
always gives the same corpus, so benchmark and test figures are comparable across runs.

Some copies credit the wire: a credit line for the text ("(Reuters)", "With AFP", "AP
contributed to this report.") or only a photo credit ("Photo: Reuters"), in the forms the
cleaner removes, so the clean texts (and every figure measured on them) are those of a
corpus without credits. The choices come from a random stream of their own, so the rest
of the corpus is the same with or without them. The truth's ``credit`` column says which
copies credit their text (``credited``), only a photo (``photo_only``), or nothing
(``uncredited``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import random
from dataclasses import dataclass
from typing import Iterator

SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"] + ["an", "el", "or", "is", "um"]
WIRE_OUTLETS = ["Reuters", "AFP", "AP"]
OUTLETS = ["Daily Ledger", "Metro Times", "The Courier", "Evening Post", "News Hub", "Globe Wire"]
VOCABULARY_SIZE = 20000
FUNCTION_WORDS = 120  # the most frequent words, shared by every story like "the", "of"
DERIVED_KINDS = ("verbatim", "light_edit", "paraphrase", "shared_quotes", "independent")
COPY_KINDS = ("verbatim", "light_edit", "paraphrase")
# Of the copies: this many credit the wire for the text, this many only for a photo.
TEXT_CREDIT_SHARE = 0.3
PHOTO_CREDIT_SHARE = 0.1
TEXT_CREDITS = ("\n\n({agency})", "\n\nWith {agency}", "\n\n{agency} contributed to this report.")


@dataclass
class Article:
    id: str
    title: str
    text: str
    outlet: str
    published: str

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)


@dataclass
class Truth:
    source_id: str
    derived_id: str
    label: str
    credit: str = ""  # copies: credited, photo_only or uncredited


class Language:
    """Pseudo-words, their Zipf weights and a fixed synonym for every word.

    As in real languages, the most frequent words are the shortest (two or three
    letters, like "of", "the", "and"), and content words are longer: the matcher's
    story path ignores short words, so this matters for realistic candidate counts.
    """

    def __init__(self, rng: random.Random):
        function_words = sorted({syllable for syllable in SYLLABLES}
                                | {s + c for s in SYLLABLES[:40] for c in "nrs"})
        rng.shuffle(function_words)
        function_words = function_words[:FUNCTION_WORDS]
        content: set[str] = set()
        while len(content) < VOCABULARY_SIZE - FUNCTION_WORDS:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
            if word not in function_words:
                content.add(word)
        content_words = sorted(content)
        rng.shuffle(content_words)
        self.words = function_words + content_words
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(self.words))]
        self.cumulative_weights = list(itertools.accumulate(weights))
        self.synonym = {}
        for group in (function_words, content_words):
            shuffled = list(group)
            rng.shuffle(shuffled)
            self.synonym.update(zip(group, shuffled))

    def sample(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative_weights, k=count)


class CorpusGenerator:
    def __init__(self, seed: int = 13):
        self.rng = random.Random(seed)
        self.credit_rng = random.Random(seed + 2)  # credits: a stream of their own
        self.language = Language(random.Random(seed + 1))
        self.start = dt.datetime(2024, 1, 1, 6, 0, tzinfo=dt.timezone.utc)

    # -- building blocks -------------------------------------------------------------
    def names(self, count: int) -> list[str]:
        return [self.language.sample(self.rng, 1)[0].capitalize() + " "
                + self.rng.choice(self.language.words[2000:]).capitalize() for _ in range(count)]

    def sentence(self, names: list[str], topic: list[str]) -> str:
        words = self.language.sample(self.rng, self.rng.randint(12, 24))
        for _ in range(self.rng.randint(1, 3)):
            words[self.rng.randrange(len(words))] = self.rng.choice(topic)
        if self.rng.random() < 0.6:
            words.insert(self.rng.randrange(len(words)), self.rng.choice(names))
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def quote(self, names: list[str]) -> str:
        spoken = " ".join(self.language.sample(self.rng, self.rng.randint(10, 18)))
        return f'"{spoken[0].upper() + spoken[1:]}," {self.rng.choice(names)} said.'

    def paragraphs(self, sentences: list[str]) -> str:
        grouped, index = [], 0
        while index < len(sentences):
            size = self.rng.randint(1, 3)
            grouped.append(" ".join(sentences[index : index + size]))
            index += size
        return "\n\n".join(grouped)

    # -- articles ----------------------------------------------------------------------
    def wire_body(self, names: list[str]) -> tuple[list[str], list[str], list[str]]:
        """A wire story's (topic, quotes, body): 30 sentences with the three quotes among them."""
        topic = self.language.sample(self.rng, 12)
        quotes = [self.quote(names) for _ in range(3)]
        body = [self.sentence(names, topic) for _ in range(30)]
        for position, quote in zip((4, 11, 19), quotes):
            body.insert(position, quote)
        return topic, quotes, body

    def story(self, number: int) -> Iterator[tuple[Article, Truth | None]]:
        names = self.names(4)
        topic, quotes, body = self.wire_body(names)
        agency = self.rng.choice(WIRE_OUTLETS)
        published = self.start + dt.timedelta(minutes=37 * number)
        title = " ".join(self.language.sample(self.rng, 6)).title()
        origin_id = f"s{number:06d}-wire"
        text = f"{title}\n\n({agency})\n\n" + self.paragraphs(body)
        yield Article(origin_id, title, text, agency, published.isoformat()), None
        for copy_number in range(self.rng.randint(1, 5)):
            kind = self.rng.choice(DERIVED_KINDS)
            sentences = self.derive(kind, body, names, topic, quotes)
            credit, credit_line = self.credit(kind, agency)
            article = Article(
                id=f"s{number:06d}-{copy_number}-{kind}",
                title=title,
                text=f"{title}\n\n" + self.paragraphs(sentences) + credit_line + self.furniture(kind),
                outlet=self.rng.choice(OUTLETS),
                published=(published + dt.timedelta(minutes=self.rng.randint(5, 600))).isoformat(),
            )
            yield article, Truth(origin_id, article.id, kind, credit)

    def credit(self, kind: str, agency: str) -> tuple[str, str]:
        """(truth, line appended to the text) for one copy; other kinds get no credit."""
        if kind not in COPY_KINDS:
            return "", ""
        draw = self.credit_rng.random()
        if draw < TEXT_CREDIT_SHARE:
            return "credited", self.credit_rng.choice(TEXT_CREDITS).format(agency=agency)
        if draw < TEXT_CREDIT_SHARE + PHOTO_CREDIT_SHARE:
            return "photo_only", f"\n\nPhoto: {agency}"
        return "uncredited", ""

    def derive(self, kind, body, names, topic, quotes) -> list[str]:
        if kind == "verbatim":
            return [self.style_edit(sentence) for sentence in body]
        if kind == "light_edit":
            kept = [s for s in body if self.rng.random() > 0.1]
            return [self.replace_words(s, 0.08) for s in kept]
        if kind == "paraphrase":
            shuffled = self.local_shuffle(body)
            return [self.replace_words(s, 0.45) for s in shuffled if self.rng.random() > 0.15]
        fresh = [self.sentence(names, topic) for _ in range(25)]
        if kind == "shared_quotes":
            for position, quote in zip((3, 9, 16), quotes):
                fresh.insert(position, quote)
        return fresh

    def style_edit(self, sentence: str) -> str:
        words = sentence.split(" ")
        if len(words) > 8 and self.rng.random() < 0.2:
            index = self.rng.randrange(len(words))
            words[index] = self.language.synonym.get(words[index], words[index])
        return " ".join(words)

    def replace_words(self, sentence: str, share: float) -> str:
        if sentence.startswith('"'):
            return sentence  # quotations are kept word for word, as editors do
        words = sentence.rstrip(".").split(" ")
        replaced = [self.language.synonym.get(w, w) if self.rng.random() < share else w
                    for w in words]
        return " ".join(replaced) + "."

    def local_shuffle(self, sentences: list[str]) -> list[str]:
        shuffled = list(sentences)
        for index in range(0, len(shuffled) - 1, 2):
            if self.rng.random() < 0.5:
                shuffled[index], shuffled[index + 1] = shuffled[index + 1], shuffled[index]
        return shuffled

    def furniture(self, kind: str) -> str:
        if kind in ("verbatim", "light_edit") and self.rng.random() < 0.5:
            return "\n\nADVERTISEMENT\n\nLeave a Reply"
        return ""

    def unrelated(self, number: int) -> Article:
        names, topic = self.names(3), self.language.sample(self.rng, 12)
        title = " ".join(self.language.sample(self.rng, 5)).title()
        sentences = [self.sentence(names, topic) for _ in range(25)]
        published = self.start + dt.timedelta(minutes=41 * number)
        return Article(f"u{number:06d}", title, f"{title}\n\n" + self.paragraphs(sentences),
                       self.rng.choice(OUTLETS), published.isoformat())


    def storm(self, copies: int, edited_share: float = 0.2) -> Iterator[tuple[Article, Truth]]:
        """One wire story republished by ``copies`` outlets within a day (a syndication
        storm): most verbatim with house-style edits and page furniture, ``edited_share``
        lightly edited. Yields the wire original (truth None) first."""
        names = self.names(4)
        topic, quotes, body = self.wire_body(names)
        published = self.start + dt.timedelta(days=3)
        title = " ".join(self.language.sample(self.rng, 6)).title()
        origin_id = "storm-wire"
        text = f"{title}\n\n(Reuters)\n\n" + self.paragraphs(body)
        yield Article(origin_id, title, text, "Reuters", published.isoformat()), None
        for number in range(copies):
            kind = "light_edit" if self.rng.random() < edited_share else "verbatim"
            sentences = self.derive(kind, body, names, topic, quotes)
            article = Article(
                id=f"storm-{number:04d}-{kind}",
                title=title,
                text=f"{title}\n\n" + self.paragraphs(sentences) + self.furniture(kind),
                outlet=f"Outlet {number:04d}",
                published=(published + dt.timedelta(minutes=self.rng.randint(5, 1440))).isoformat(),
            )
            yield article, Truth(origin_id, article.id, kind)


def storm(copies: int, seed: int = 13, edited_share: float = 0.2):
    """(article, truth-or-None) of one syndication storm (see ``CorpusGenerator.storm``)."""
    yield from CorpusGenerator(seed + 1000).storm(copies, edited_share)


def generate(size: int, seed: int = 13, unrelated_share: float = 0.3):
    """Yield (article, truth-or-None) until ``size`` articles have been produced."""
    generator = CorpusGenerator(seed)
    produced = story = unrelated = 0
    while produced < size:
        if generator.rng.random() < unrelated_share:
            unrelated += 1
            yield generator.unrelated(unrelated), None
            produced += 1
            continue
        story += 1
        for article, truth in generator.story(story):
            if produced >= size:
                return
            yield article, truth
            produced += 1


def write_corpus(
    size: int,
    out_path: str,
    truth_path: str | None = None,
    seed: int = 13,
    unrelated_share: float = 0.3,
) -> int:
    """Write ``size`` articles as JSONL (and the labelled pairs as CSV); the pair count.

    ``unrelated_share`` is the chance that the next article drawn is unrelated rather
    than a new story (a wire original and 1-5 copies, ~4 articles): at 0.3 about 90 %
    of articles belong to stories; at 0.97 about 10 %, as in a real archive, where most
    articles are nobody's copy.
    """
    truths = []
    with open(out_path, "w", encoding="utf-8") as out:
        for article, truth in generate(size, seed, unrelated_share):
            out.write(article.to_json() + "\n")
            if truth:
                truths.append(truth)
    if truth_path:
        with open(truth_path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["source_id", "derived_id", "label", "credit"])
            writer.writerows((t.source_id, t.derived_id, t.label, t.credit) for t in truths)
    return len(truths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", required=True)
    parser.add_argument("--truth")
    parser.add_argument("--unrelated-share", type=float, default=0.3,
                        help="chance that the next article is unrelated rather than a new story")
    args = parser.parse_args()
    pairs = write_corpus(args.size, args.out, args.truth, args.seed, args.unrelated_share)
    print(f"wrote {args.size} articles and {pairs} labelled pairs to {args.out}")


if __name__ == "__main__":
    main()
