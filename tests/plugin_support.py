"""A provenance database for the plugin tests, written row by row through store.connect.

It mirrors the expected lineage of the five seed articles (000 is the Reuters
origin; 003 story 1 is an uncredited light edit of it with a Canada story
appended; 001 is a credited paraphrase; 002 and 004 are independent coverage),
so the pages can be tested before (and independently of) the real pipeline.
Passages are found with difflib on the seed paragraphs, so offsets and word
edits are real. A second, hostile story has ids, titles and texts full of
markup, quotes, slashes and percent signs, to test escaping and URL encoding.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest
from datasette.utils import tilde_encode
from datasette_test import Datasette

from datasette_provenance import store

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# Seed article ids: the seed file names, as the real ingest names them.
REUTERS, PARAPHRASE, NYT, COPY, FRENCH = (
    "000_5bbc07b3f689fc76", "001_5ada4b7a9c93438c", "002_f9eead5de3e89fd6", "003_6154cfbf0fdc7a47",
    "004_6d0080554216e963",
)

SEED_ARTICLES = {
    REUTERS: dict(outlet="Reuters", published="2023-09-13T09:40:00Z", inferred=[],
                title="Kim Jong Un Meets With Putin, Celebrates Russia's 'Sacred' Invasion of Ukraine"),
    PARAPHRASE: dict(outlet="Vygr Media", published="2023-09-13T15:05:00Z", inferred=[],
                title="Kim and Putin hold rare summit at Russian spaceport"),
    NYT: dict(outlet="The New York Times", published="2023-09-13T13:30:00Z", inferred=["outlet"],
                title="Putin and Kim Deepen Ties, Spurred by War in Ukraine"),
    COPY: dict(outlet=None, published="2023-09-13T11:00:00Z", inferred=[],
                title="Putin and North Korea’s Kim Discuss Military Matters, Ukraine War and Satellites"),
    FRENCH: dict(outlet="France 24", published="2023-09-13T17:45:00Z", inferred=["outlet", "published"],
                title="A handshake against a backdrop of missile fire"),
}

HOSTILE_ID = "x/\"><img src=x onerror=alert(1)> 100% 'q'"
HOSTILE_TITLE = '<script>alert("title")</script>"><img src=x onerror=alert(1)>'
HOSTILE_OUTLET = '"><img src=x onerror=alert(2)>'
WIRE_ID = "wire/ap 1"
WIRE_TEXT = (
    "(AP) Officials said on Monday that the bridge over the river will reopen next week after repairs "
    "costing 4 million dollars, according to a statement from the city transport department.\n\n"
    "Traffic has been diverted since March, when inspectors found cracks in two of the supporting piers."
)
HOSTILE_TEXT = (
    '<script>alert("text")</script> "><img src=x onerror=alert(3)>\n\n'
    "Officials said on Monday that the bridge over the river will reopen next week after repairs "
    "costing 4 million dollars, according to a statement from the city transport department.\n\n"
    "Traffic has been diverted since March, when inspectors found cracks in two of the supporting piers."
)


def seed_text(article_id: str) -> str:
    return (SEEDS / f"{article_id}.txt").read_text(encoding="utf-8")


def build_fixture_db(path, hostile: bool = True) -> Path:
    """Write the fixture database to ``path`` and close it (WAL checkpointed)."""
    db = store.connect(str(path))
    texts = {article_id: seed_text(article_id) for article_id in SEED_ARTICLES}
    with db.conn:
        for article_id, info in SEED_ARTICLES.items():
            _article(db, article_id, texts[article_id], info["title"], info["outlet"], info["published"],
                     inferred=info["inferred"], url=f"https://example.com/news/{article_id[:3]}")
        canada = texts[COPY].index("Canada Liberals Vote")
        for article_id in (REUTERS, PARAPHRASE, NYT, FRENCH):
            _segment(db, article_id, 1, texts[article_id], 0, len(texts[article_id]))
        _segment(db, COPY, 1, texts[COPY], 0, canada, title=SEED_ARTICLES[COPY]["title"])
        _segment(db, COPY, 2, texts[COPY], canada, len(texts[COPY]), title="Canada Liberals Vote to Replace Trudeau as PM")
        _seed_spans(db, texts)
        light_edit = _match(
            db, REUTERS, COPY, "light_edit", 0.93, 0.87, 0.84, credited=False, confidence=0.92,
            evidence=[
                "93% of the Reuters text appears in this article, almost all of it word for word",
                "Only style edits: “U.S.” became “US”, “metre” became “meter”",
                "The article does not credit Reuters; its photo captions credit AFP",
                "The Reuters version was published 1 hour 20 minutes earlier",
            ],
        )
        _passages_by_paragraph(db, light_edit, texts[REUTERS], texts[COPY][:canada])
        paraphrase = _match(
            db, REUTERS, PARAPHRASE, "paraphrase", 0.41, 0.58, 0.18, credited=True, confidence=0.81,
            evidence=[
                "The same facts in the same order, reworded sentence by sentence",
                "Two quotations are identical",
                "Credits Reuters: “(Photo: Reuters)”",
            ],
        )
        _quote_passages(db, paraphrase, texts[REUTERS], texts[PARAPHRASE], [
            "The Russian army and people will certainly win a great victory in the sacred struggle for the "
            "punishment of a great evil that claims hegemony and feeds an expansionist illusion,",
            "That's why we came here.",
        ])
        _phrase_passage(
            db, paraphrase, "paraphrase", 0.62, texts[REUTERS], texts[PARAPHRASE],
            "North Korean leader Kim Jong Un and Russian president Vladimir Putin met for a rare summit",
            "On Wednesday, North Korean leader Kim Jong Un and Russian President Vladimir Putin had a rare summit",
            to_line_end=True,
        )
        shared = _match(db, REUTERS, NYT, "shared_quotes", 0.02, 0.01, 0.01, credited=None, confidence=0.55,
                        evidence=["Both quote Putin: “That’s why we came here”", "No other shared sentences"])
        _phrase_passage(db, shared, "quotation", 0.96, texts[REUTERS], texts[NYT],
                        "That's why we came here", "That’s why we came here")
        independent = _match(db, REUTERS, FRENCH, "independent", 0.0, 0.0, 0.02, credited=None, confidence=0.5,
                             evidence=["Same event and people, but no shared sentences"])
        cluster = _cluster(db, SEED_ARTICLES[REUTERS]["title"], REUTERS, 5, 2, 1,
                           SEED_ARTICLES[REUTERS]["published"], SEED_ARTICLES[FRENCH]["published"])
        _lineage(db, f"{REUTERS}#1", cluster, origin=True)
        _lineage(db, f"{COPY}#1", cluster, parent=f"{REUTERS}#1", match_id=light_edit, label="light_edit", generation=1)
        _lineage(db, f"{PARAPHRASE}#1", cluster, parent=f"{REUTERS}#1", match_id=paraphrase, label="paraphrase",
                 generation=1)
        _lineage(db, f"{NYT}#1", cluster, match_id=shared)
        _lineage(db, f"{FRENCH}#1", cluster, match_id=independent)
        if hostile:
            _hostile_story(db)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return Path(path)


def _hostile_story(db) -> None:
    _article(db, WIRE_ID, WIRE_TEXT, "Bridge to reopen next week", "AP", "2024-03-04T08:00:00Z",
             url="https://example.com/ap")
    _article(db, HOSTILE_ID, HOSTILE_TEXT, HOSTILE_TITLE, HOSTILE_OUTLET, "2024-03-04T09:30:00Z",
             url="javascript:alert(4)")
    _segment(db, WIRE_ID, 1, WIRE_TEXT, 0, len(WIRE_TEXT))
    _segment(db, HOSTILE_ID, 1, HOSTILE_TEXT, 0, len(HOSTILE_TEXT))
    db.conn.execute(
        "insert into article_credits (article_id, kind, agency, matched_text, start_char, end_char) values (?, ?, ?, ?, ?, ?)",
        [WIRE_ID, "wire_marker", "AP", "(AP)", 0, 4],
    )
    match_id = _match(db, WIRE_ID, HOSTILE_ID, "verbatim", 0.97, 0.8, 0.8, credited=False, confidence=0.9,
                      evidence=['<img src=x onerror=alert(5)> evidence', "javascript:alert(6)"])
    source_start = WIRE_TEXT.index("Officials")
    derived_start = HOSTILE_TEXT.index("Officials")
    length = len(WIRE_TEXT) - source_start
    _passage(db, match_id, "verbatim", source_start, source_start + length, derived_start, derived_start + length, 1.0)
    cluster = _cluster(db, None, WIRE_ID, 2, 1, 1, "2024-03-04T08:00:00Z", "2024-03-04T09:30:00Z")
    _lineage(db, f"{WIRE_ID}#1", cluster, origin=True)
    _lineage(db, f"{HOSTILE_ID}#1", cluster, parent=f"{WIRE_ID}#1", match_id=match_id, label="verbatim", generation=1)


# Row writers -------------------------------------------------------------------------


def _article(db, article_id, text, title, outlet, published, inferred=(), url=None) -> None:
    db.conn.execute(
        "insert into articles (id, title, outlet, url, published, language, inferred_fields, raw_text, clean_text, "
        "content_hash, word_count, source_path, ingested_at) values (?, ?, ?, ?, ?, 'en', ?, ?, ?, ?, ?, ?, ?)",
        [article_id, title, outlet, url, published, json.dumps(list(inferred)), text, text,
         f"hash-{abs(hash(text))}", len(text.split()), f"seeds/{article_id}.txt", "2024-01-01T00:00:00Z"],
    )


def _segment(db, article_id, number, text, start, end, title=None) -> None:
    db.conn.execute(
        "insert into segments (id, article_id, segment_number, title, start_char, end_char, clean_text, word_count, "
        "match_pending) values (?, ?, ?, ?, ?, ?, ?, ?, 0)",
        [f"{article_id}#{number}", article_id, number, title, start, end, text[start:end], len(text[start:end].split())],
    )


def _match(db, source, derived, label, source_containment, derived_containment, jaccard, credited, confidence,
           evidence) -> int:
    cursor = db.conn.execute(
        "insert into matches (source_article_id, derived_article_id, source_segment_id, derived_segment_id, label, "
        "source_containment, derived_containment, jaccard, credited, direction_confidence, scores, evidence, "
        "computed_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source, derived, f"{source}#1", f"{derived}#1", label, source_containment, derived_containment, jaccard,
         None if credited is None else int(credited), confidence,
         json.dumps({"source_containment": source_containment, "derived_containment": derived_containment,
                     "jaccard": jaccard, "time_gap_hours": 1.3}),
         json.dumps(evidence), "2024-01-01T00:00:00Z"],
    )
    return cursor.lastrowid


def _passage(db, match_id, kind, source_start, source_end, derived_start, derived_end, similarity, edits=()) -> None:
    db.conn.execute(
        "insert into passages (match_id, kind, source_start, source_end, derived_start, derived_end, similarity, edits) "
        "values (?, ?, ?, ?, ?, ?, ?, ?)",
        [match_id, kind, source_start, source_end, derived_start, derived_end, similarity, json.dumps(list(edits))],
    )


def _cluster(db, title, origin, articles, derived, uncredited, first, last) -> int:
    cursor = db.conn.execute(
        "insert into clusters (title, origin_article_id, article_count, derived_count, uncredited_count, "
        "first_published, last_published) values (?, ?, ?, ?, ?, ?, ?)",
        [title, origin, articles, derived, uncredited, first, last],
    )
    return cursor.lastrowid


def _lineage(db, segment_id, cluster, parent=None, match_id=None, label=None, generation=None, origin=False) -> None:
    article_id = segment_id.rsplit("#", 1)[0]
    db.conn.execute(
        "insert into lineage (segment_id, article_id, cluster_id, parent_article_id, parent_segment_id, match_id, "
        "label, generation, is_origin) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [segment_id, article_id, cluster, parent and parent.rsplit("#", 1)[0], parent, match_id, label,
         0 if origin else generation, int(origin)],
    )


# Seed spans and passages ----------------------------------------------------------------


def _seed_spans(db, texts) -> None:
    def span(table, article_id, kind, matched, agency=None, occurrence=0):
        text = texts[article_id]
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(matched, start + 1)
        if table == "article_credits":
            db.conn.execute(
                "insert into article_credits (article_id, kind, agency, matched_text, start_char, end_char) "
                "values (?, ?, ?, ?, ?, ?)", [article_id, kind, agency, matched, start, start + len(matched)])
        else:
            db.conn.execute(
                "insert into boilerplate_spans (article_id, kind, matched_text, start_char, end_char) "
                "values (?, ?, ?, ?, ?)", [article_id, kind, matched, start, start + len(matched)])

    span("boilerplate_spans", REUTERS, "advertisement", "ADVERTISEMENT")
    span("article_credits", REUTERS, "wire_marker", "(Reuters)", "Reuters")
    span("article_credits", REUTERS, "dateline", "September 13, 2023")
    reporting = texts[REUTERS][texts[REUTERS].index("(Reporting by"):].rstrip()
    span("boilerplate_spans", REUTERS, "credit_line", reporting)
    span("article_credits", REUTERS, "reporting_credit", reporting, "Reuters")
    span("article_credits", PARAPHRASE, "photo_credit", "(Photo: Reuters)", "Reuters")
    span("boilerplate_spans", PARAPHRASE, "copyright", "© Copyright 2023. All Rights Reserved Powered by Vygr Media.")
    span("boilerplate_spans", NYT, "comment_form", "Leave a Reply\n\nYour email address will not be published. Required fields are marked *")
    caption = texts[COPY].split("\n")[2]
    for occurrence in range(1, 4):
        span("boilerplate_spans", COPY, "repeated_caption", caption, occurrence=occurrence)
    span("article_credits", COPY, "photo_credit", "(AFP)", "AFP")


def _paragraphs(text: str, end: int | None = None) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text[:end] if end else text) if len(m.group().split()) >= 8]


def _passages_by_paragraph(db, match_id, source: str, derived: str) -> None:
    """Pair each long source paragraph with its closest derived paragraph (verbatim or edited)."""
    derived_paragraphs = _paragraphs(derived)
    for source_start, source_end in _paragraphs(source):
        source_words = source[source_start:source_end].split()
        best, best_ratio = None, 0.0
        for derived_start, derived_end in derived_paragraphs:
            ratio = difflib.SequenceMatcher(None, source_words, derived[derived_start:derived_end].split()).ratio()
            if ratio > best_ratio:
                best, best_ratio = (derived_start, derived_end), ratio
        if best is None or best_ratio < 0.8:
            continue
        derived_words = derived[best[0]:best[1]].split()
        edits = [
            [" ".join(source_words[i1:i2]), " ".join(derived_words[j1:j2])]
            for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, source_words, derived_words).get_opcodes()
            if op != "equal"
        ]
        kind = "edited" if edits else "verbatim"
        _passage(db, match_id, kind, source_start, source_end, best[0], best[1], round(best_ratio, 3), edits)


def _quote_passages(db, match_id, source: str, derived: str, quotes: list[str]) -> None:
    for quote in quotes:
        if quote in source and quote in derived:
            s, d = source.index(quote), derived.index(quote)
            _passage(db, match_id, "quotation", s, s + len(quote), d, d + len(quote), 1.0)


def _phrase_passage(db, match_id, kind, similarity, source: str, derived: str, source_phrase: str,
                    derived_phrase: str, to_line_end: bool = False) -> None:
    s, d = source.index(source_phrase), derived.index(derived_phrase)
    source_end = source.index("\n", s) if to_line_end else s + len(source_phrase)
    derived_end = derived.index("\n", d) if to_line_end else d + len(derived_phrase)
    _passage(db, match_id, kind, s, source_end, d, derived_end, similarity)


# Fixtures and helpers shared by the plugin test modules (imported there by name) ---------------

DB = "provenance"  # the fixture file is provenance.db, as in the README demo and metadata.json


@pytest.fixture(scope="session")
def provenance_db_path(tmp_path_factory) -> Path:
    """The fixture database (read-only for tests: every Datasette opens it immutable)."""
    return build_fixture_db(tmp_path_factory.mktemp("plugin") / f"{DB}.db")


async def started(*args, **kwargs) -> Datasette:
    datasette = Datasette(*args, **kwargs)
    await datasette.invoke_startup()
    return datasette


async def serve(path, **kwargs) -> Datasette:
    """A Datasette serving the fixture database as an immutable file."""
    return await started(immutables=[str(path)], **kwargs)


def page(*parts: str, format: str | None = None) -> str:
    """Path of a plugin page: page('article', some_id) -> /provenance/-/provenance/article/<tilde id>."""
    path = f"/{DB}/-/provenance"
    if parts:
        path += "/" + parts[0] + "".join("/" + tilde_encode(part) for part in parts[1:])
    return path + (f".{format}" if format else "")
