"""A provenance database for the plugin tests, written row by row through store.connect.

It mirrors the expected lineage of the five seed articles (000 is the Reuters
origin; 003 story 1 is an uncredited light edit of it with a Canada story
appended; 001 is a paraphrase crediting Reuters only for a photo; 002 and 004 are
independent coverage; 001 and 003 are siblings),
so the pages are tested on exact, known values independently of the matcher
(test_plugin_seeds.py covers the real pipeline). Passages are found with difflib
on the seed paragraphs, so offsets and word edits are real. A second, hostile
story has ids, titles and texts full of markup, quotes, slashes and percent
signs, to test escaping and URL encoding.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from pathlib import Path

import pytest
import pytest_asyncio
from datasette.utils import tilde_encode
from datasette_test import Datasette

from datasette_provenance import store

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
DB = "provenance"  # the fixture file is provenance.db, as in the README demo

# Seed article ids: the seed file names, as the real ingest names them.
REUTERS, PARAPHRASE, NYT, COPY, FRENCH = (
    "000_5bbc07b3f689fc76",
    "001_5ada4b7a9c93438c",
    "002_f9eead5de3e89fd6",
    "003_6154cfbf0fdc7a47",
    "004_6d0080554216e963",
)
SEED_ARTICLES = {
    REUTERS: dict(
        outlet="Reuters",
        published="2023-09-13T09:40:00Z",
        title="Kim Jong Un Meets With Putin, Celebrates Russia's 'Sacred' Invasion of Ukraine",
    ),
    PARAPHRASE: dict(
        outlet="Vygr Media",
        published="2023-09-13T15:05:00Z",
        title="Kim and Putin hold rare summit at Russian spaceport",
    ),
    NYT: dict(
        outlet="The New York Times",
        published="2023-09-13T13:30:00Z",
        title="Putin and Kim Deepen Ties, Spurred by War in Ukraine",
        inferred=["outlet"],
    ),
    COPY: dict(
        outlet=None,
        published="2023-09-13T11:00:00Z",
        title="Putin and North Korea’s Kim Discuss Military Matters, Ukraine War and Satellites",
    ),
    FRENCH: dict(
        outlet="France 24",
        published="2023-09-13T17:45:00Z",
        title="A handshake against a backdrop of missile fire",
        inferred=["outlet", "published"],
    ),
}

HOSTILE_ID = "x/\"><img src=x onerror=alert(1)> 100% 'q'"
HOSTILE_TITLE = '<script>alert("title")</script>"><img src=x onerror=alert(1)>'
HOSTILE_OUTLET = '"><img src=x onerror=alert(2)>'
WIRE_ID = "wire/ap 1"
BRIDGE_STORY = (
    "Officials said on Monday that the bridge over the river will reopen next week after "
    "repairs costing 4 million dollars, according to a statement from the city transport "
    "department.\n\nTraffic has been diverted since March, when inspectors found cracks in "
    "two of the supporting piers."
)
WIRE_TEXT = "(AP) " + BRIDGE_STORY
HOSTILE_TEXT = '<script>alert("text")</script> "><img src=x onerror=alert(3)>\n\n' + BRIDGE_STORY

RUSSIAN_ARMY_QUOTE = (
    "The Russian army and people will certainly win a great victory in the sacred struggle for "
    "the punishment of a great evil that claims hegemony and feeds an expansionist illusion,"
)


def seed_text(article_id: str) -> str:
    return (SEEDS / f"{article_id}.txt").read_text(encoding="utf-8")


def build_fixture_db(path, hostile: bool = True) -> Path:
    """Write the fixture database to ``path`` and close it (WAL checkpointed)."""
    db = store.connect(str(path))
    texts = {article_id: seed_text(article_id) for article_id in SEED_ARTICLES}
    with db.conn:
        _seed_articles(db, texts)
        _seed_spans(db, texts)
        _seed_lineage(db, texts)
        if hostile:
            _hostile_story(db)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return Path(path)


def _seed_articles(db, texts) -> None:
    for article_id, info in SEED_ARTICLES.items():
        _article(db, article_id, texts[article_id], url=f"https://example.com/{article_id}", **info)
    canada = texts[COPY].index("Canada Liberals Vote")
    for article_id in (REUTERS, PARAPHRASE, NYT, FRENCH):
        _segment(db, article_id, 1, texts[article_id], 0, len(texts[article_id]))
    _segment(db, COPY, 1, texts[COPY], 0, canada, title=SEED_ARTICLES[COPY]["title"])
    canada_title = "Canada Liberals Vote to Replace Trudeau as PM"
    _segment(db, COPY, 2, texts[COPY], canada, len(texts[COPY]), title=canada_title)


def _seed_lineage(db, texts) -> None:
    reuters = texts[REUTERS]
    light_edit = _match(
        db, REUTERS, COPY, "light_edit", (0.93, 0.87, 0.84), credit="uncredited", confidence=0.92,
        evidence=[
            ("reuse", "The copy reuses nearly all of the Reuters text with light edits: 97% of "
                      "the reused words are unchanged."),
            ("reuse", "Only style edits: “U.S.” became “US”, “metre” became “meter”."),
            ("direction", "The Reuters article is dated earlier (2023-09-13 09:40) than the "
                          "copy (2023-09-13 11:00)."),
            ("credit", "The copy does not credit Reuters; it credits AFP, for photos only."),
        ],
    )  # fmt: skip
    copied_story = texts[COPY][: texts[COPY].index("Canada Liberals Vote")]
    _passages_by_paragraph(db, light_edit, reuters, copied_story)

    paraphrase = _match(
        db, REUTERS, PARAPHRASE, "paraphrase", (0.41, 0.58, 0.18), credit="photo_only",
        confidence=0.81,
        evidence=[
            ("reuse", "Vygr Media’s article reuses about two fifths of the Reuters text, "
                      "reworded; 10 of its sentences follow the Reuters sentences in order."),
            ("credit", "Vygr Media’s article credits Reuters only for the photo "
                       "(“(Photo: Reuters)”), not for the text."),
        ],
    )  # fmt: skip
    paraphrased = texts[PARAPHRASE]
    for quote in (RUSSIAN_ARMY_QUOTE, "That's why we came here."):
        _phrase_passage(db, paraphrase, "quotation", 1.0, reuters, paraphrased, quote, quote)
    _phrase_passage(
        db, paraphrase, "paraphrase", 0.62, reuters, paraphrased,
        "North Korean leader Kim Jong Un and Russian president Vladimir Putin met",
        "On Wednesday, North Korean leader Kim Jong Un and Russian President Vladimir Putin had",
        to_line_end=True,
    )  # fmt: skip

    shared = _match(
        db, REUTERS, NYT, "shared_quotes", (0.02, 0.01, 0.01), credit=None, confidence=0.55,
        evidence=[("shared", "Both quote Putin: “That’s why we came here”; no other shared "
                             "sentences: separate reporting of the same story.")],
    )  # fmt: skip
    _phrase_passage(
        db, shared, "quotation", 0.96, reuters, texts[NYT],
        "That's why we came here", "That’s why we came here",
    )  # fmt: skip
    independent = _match(
        db, REUTERS, FRENCH, "independent", (0.0, 0.0, 0.02), credit=None, confidence=0.5,
        evidence=[("shared", "Same event and people, but no shared sentences.")],
    )  # fmt: skip

    siblings = _match(
        db, PARAPHRASE, COPY, "paraphrase", (0.6, 0.3, 0.1), credit="uncredited", confidence=0.54,
        evidence=[("reuse", "The copy reuses about two thirds of the Vygr Media text.")],
        relation="siblings", shared_source=REUTERS,
    )  # fmt: skip

    cluster = _cluster(
        db, SEED_ARTICLES[REUTERS]["title"], REUTERS, counts=(5, 2, 2, 1),
        first=SEED_ARTICLES[REUTERS]["published"], last=SEED_ARTICLES[FRENCH]["published"],
    )  # fmt: skip
    origin = f"{REUTERS}#1"
    _lineage(db, origin, cluster, origin=True)
    _lineage(db, f"{COPY}#1", cluster, parent=origin, match_id=light_edit, label="light_edit",
             credit="uncredited")  # fmt: skip
    _lineage(db, f"{PARAPHRASE}#1", cluster, parent=origin, match_id=paraphrase, label="paraphrase",
             credit="photo_only")  # fmt: skip
    _lineage(db, f"{NYT}#1", cluster, match_id=shared)
    _lineage(db, f"{FRENCH}#1", cluster, match_id=independent)


def _hostile_story(db) -> None:
    wire_time, copy_time = "2024-03-04T08:00:00Z", "2024-03-04T09:30:00Z"
    _article(db, WIRE_ID, WIRE_TEXT, "Bridge to reopen next week", "AP", wire_time)
    _article(db, HOSTILE_ID, HOSTILE_TEXT, HOSTILE_TITLE, HOSTILE_OUTLET, copy_time,
             url="javascript:alert(4)")  # fmt: skip
    _segment(db, WIRE_ID, 1, WIRE_TEXT, 0, len(WIRE_TEXT))
    _segment(db, HOSTILE_ID, 1, HOSTILE_TEXT, 0, len(HOSTILE_TEXT))
    _insert(db, "article_credits", article_id=WIRE_ID, kind="wire_marker", agency="AP",
            matched_text="(AP)", start_char=0, end_char=4)  # fmt: skip
    match_id = _match(
        db, WIRE_ID, HOSTILE_ID, "verbatim", (0.97, 0.8, 0.8), credit="uncredited", confidence=0.9,
        evidence=[("reuse", "<img src=x onerror=alert(5)> evidence"),
                  ("credit", "javascript:alert(6)")],
    )  # fmt: skip
    story = BRIDGE_STORY
    _phrase_passage(db, match_id, "verbatim", 1.0, WIRE_TEXT, HOSTILE_TEXT, story, story)
    cluster = _cluster(db, None, WIRE_ID, counts=(2, 1, 1, 0), first=wire_time, last=copy_time)
    _lineage(db, f"{WIRE_ID}#1", cluster, origin=True)
    copy = f"{HOSTILE_ID}#1"
    _lineage(db, copy, cluster, parent=f"{WIRE_ID}#1", match_id=match_id, label="verbatim",
             credit="uncredited")  # fmt: skip


# Row writers ----------------------------------------------------------------------------


def _insert(db, table: str, **values) -> int:
    return db[table].insert(values).last_rowid


def _article(db, article_id, text, title, outlet, published, inferred=(), url=None) -> None:
    _insert(
        db, "articles", id=article_id, title=title, outlet=outlet, url=url, published=published,
        language="en", inferred_fields=json.dumps(list(inferred)), raw_text=text, clean_text=text,
        content_hash=f"hash-{abs(hash(text))}", word_count=len(text.split()),
        source_path=f"seeds/{article_id}.txt", ingested_at="2024-01-01T00:00:00Z",
    )  # fmt: skip


def _segment(db, article_id, number, text, start, end, title=None) -> None:
    _insert(
        db, "segments", id=f"{article_id}#{number}", article_id=article_id, segment_number=number,
        title=title, start_char=start, end_char=end, clean_start=start, clean_end=end,
        word_count=len(text[start:end].split()), match_pending=0,
    )  # fmt: skip


def _match(
    db, source, derived, label, containments, credit, confidence, evidence,
    relation=None, shared_source=None,
) -> int:
    source_containment, derived_containment, jaccard = containments
    scores = {"source_containment": source_containment, "derived_containment": derived_containment,
              "jaccard": jaccard, "time_gap_hours": 1.3}  # fmt: skip
    derived_label = label in ("verbatim", "light_edit", "paraphrase")
    relation = relation or ("copy" if derived_label else None)
    credited = None if credit is None or relation == "siblings" else int(credit == "credited")
    return _insert(
        db, "matches", source_article_id=source, derived_article_id=derived,
        source_segment_id=f"{source}#1", derived_segment_id=f"{derived}#1", label=label,
        source_containment=source_containment, derived_containment=derived_containment,
        jaccard=jaccard, credited=credited, credit=credit, relation=relation,
        shared_source_article_id=shared_source,
        shared_source_segment_id=shared_source and f"{shared_source}#1",
        direction_confidence=confidence, scores=json.dumps(scores),
        evidence=json.dumps([{"about": about, "text": text} for about, text in evidence]),
        computed_at="2024-01-01T00:00:00Z",
    )  # fmt: skip


def _passage(db, match_id, kind, source_span, derived_span, similarity, edits=()) -> None:
    _insert(
        db, "passages", match_id=match_id, kind=kind,
        source_start=source_span[0], source_end=source_span[1],
        derived_start=derived_span[0], derived_end=derived_span[1],
        similarity=similarity, edits=json.dumps(list(edits)),
    )  # fmt: skip


def _cluster(db, title, origin, counts, first, last) -> int:
    article_count, derived_count, uncredited_count, photo_only_count = counts
    return _insert(
        db, "clusters", title=title, origin_article_id=origin, article_count=article_count,
        derived_count=derived_count, uncredited_count=uncredited_count,
        photo_only_count=photo_only_count, first_published=first, last_published=last,
    )  # fmt: skip


def _lineage(
    db, segment_id, cluster, parent=None, match_id=None, label=None, origin=False, credit=None
) -> None:
    root = segment_id if origin else parent  # the fixture's trees are one level deep
    _insert(
        db, "lineage", segment_id=segment_id, article_id=segment_id.rsplit("#", 1)[0],
        cluster_id=cluster, parent_article_id=parent and parent.rsplit("#", 1)[0],
        parent_segment_id=parent, match_id=match_id, label=label,
        generation=0 if origin else (1 if parent else None), is_origin=int(origin),
        origin_segment_id=root, origin_article_id=root and root.rsplit("#", 1)[0], credit=credit,
    )  # fmt: skip


# Seed spans and passages ------------------------------------------------------------------


def _seed_spans(db, texts) -> None:
    def span(table, article_id, kind, matched, agency=None, occurrence=0):
        start = -1
        for _ in range(occurrence + 1):
            start = texts[article_id].index(matched, start + 1)
        columns = {"agency": agency} if table == "article_credits" else {}
        _insert(db, table, article_id=article_id, kind=kind, matched_text=matched,
                start_char=start, end_char=start + len(matched), **columns)  # fmt: skip

    reporting = texts[REUTERS][texts[REUTERS].index("(Reporting by") :].rstrip()
    comment_form = "Leave a Reply\n\nYour email address will not be published."
    span("boilerplate_spans", REUTERS, "advertisement", "ADVERTISEMENT")
    span("article_credits", REUTERS, "wire_marker", "(Reuters)", "Reuters")
    span("article_credits", REUTERS, "dateline", "September 13, 2023")
    span("boilerplate_spans", REUTERS, "credit_line", reporting)
    span("article_credits", REUTERS, "reporting_credit", reporting, "Reuters")
    span("article_credits", PARAPHRASE, "photo_credit", "(Photo: Reuters)", "Reuters")
    span("boilerplate_spans", PARAPHRASE, "copyright", "© Copyright 2023. All Rights Reserved")
    span("boilerplate_spans", NYT, "comment_form", comment_form)
    caption = texts[COPY].split("\n")[2]
    for occurrence in range(1, 4):
        span("boilerplate_spans", COPY, "repeated_caption", caption, occurrence=occurrence)
    span("article_credits", COPY, "photo_credit", "(AFP)", "AFP")


def _paragraphs(text: str) -> list[tuple[int, int]]:
    lines = re.finditer(r"[^\n]+", text)
    return [(m.start(), m.end()) for m in lines if len(m.group().split()) >= 8]


def _passages_by_paragraph(db, match_id, source: str, derived: str) -> None:
    """Pair each long source paragraph with its closest derived paragraph (verbatim or edited)."""
    derived_paragraphs = _paragraphs(derived)
    for source_span in _paragraphs(source):
        source_words = source[source_span[0] : source_span[1]].split()

        def likeness(span):
            words = derived[span[0] : span[1]].split()
            return difflib.SequenceMatcher(None, source_words, words).ratio()

        best = max(derived_paragraphs, key=likeness)
        if likeness(best) < 0.8:
            continue
        derived_words = derived[best[0] : best[1]].split()
        opcodes = difflib.SequenceMatcher(None, source_words, derived_words).get_opcodes()
        edits = [
            [" ".join(source_words[i1:i2]), " ".join(derived_words[j1:j2])]
            for op, i1, i2, j1, j2 in opcodes
            if op != "equal"
        ]
        kind = "edited" if edits else "verbatim"
        _passage(db, match_id, kind, source_span, best, round(likeness(best), 3), edits)


def _phrase_passage(
    db, match_id, kind, similarity, source, derived, source_phrase, derived_phrase,
    to_line_end=False,
) -> None:  # fmt: skip
    """A passage from where the phrases start to where they (or their lines) end."""
    s, d = source.index(source_phrase), derived.index(derived_phrase)
    source_end = source.index("\n", s) if to_line_end else s + len(source_phrase)
    derived_end = derived.index("\n", d) if to_line_end else d + len(derived_phrase)
    _passage(db, match_id, kind, (s, source_end), (d, derived_end), similarity)


# Fixtures and helpers shared by the plugin test modules (imported there by name) -----------


@pytest.fixture(scope="session")
def provenance_db_path(tmp_path_factory) -> Path:
    """The fixture database (read-only for tests: every Datasette opens it immutable).

    At the end of the session it must be byte-for-byte the file written here.
    """
    path = build_fixture_db(tmp_path_factory.mktemp("plugin") / f"{DB}.db")
    written = hashlib.sha256(path.read_bytes()).hexdigest()
    yield path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == written, "a test wrote to it"


async def started(*args, **kwargs) -> Datasette:
    datasette = Datasette(*args, **kwargs)
    await datasette.invoke_startup()
    return datasette


async def serve(path, **kwargs) -> Datasette:
    """A Datasette serving the fixture database as an immutable file."""
    return await started(immutables=[str(path)], **kwargs)


@pytest_asyncio.fixture
async def ds(provenance_db_path):
    """A fresh Datasette serving the fixture database (a test module may override it)."""
    return await serve(provenance_db_path)


def page(*parts: str, format: str | None = None) -> str:
    """Path of a plugin page: page("article", an_id) is /provenance/-/provenance/article/<id>."""
    path = f"/{DB}/-/provenance"
    if parts:
        path += "/" + parts[0] + "".join("/" + tilde_encode(part) for part in parts[1:])
    return path + (f".{format}" if format else "")


# A hostile corpus through the real ingest ---------------------------------------------------

# Markup, quotes and script URLs in every field an article has: the ingest must store them
# as they are, and every page (and the lineage graph) must show them as text.
HOSTILE_INGEST = {
    "wire": {
        "id": 'wire"><img src=x onerror=alert(11)>',
        "title": '<script>alert("t11")</script> Kim meets Putin',
        "outlet": '"><img src=x onerror=alert(12)>',
        "url": "javascript:alert(13)",
        "published": "2023-09-13T09:40:00Z",
    },
    "copy": {
        "id": "copy/<b>1</b> 100% 'q'",
        "title": '"><img src=x onerror=alert(15)> Summit copy',
        "outlet": "<script>alert(16)</script>",
        "url": "JaVaScRiPt:alert(17)",
        "published": "2023-09-13T12:00:00Z",
    },
}
HOSTILE_LINE = '<script>alert("text")</script> "><img src=x onerror=alert(18)> javascript:alert(19)'


def build_hostile_ingested_db(path) -> Path:
    """Two hostile articles (a wire story and its copy) ingested and matched for real."""
    from datasette_provenance import ingest

    story = seed_text(REUTERS)
    texts = {"wire": f"{HOSTILE_LINE}\n\n{story}", "copy": f"{story}\n\n{HOSTILE_LINE}"}
    corpus = Path(path).with_suffix(".jsonl")
    corpus.write_text(
        "".join(
            json.dumps({**HOSTILE_INGEST[kind], "text": texts[kind]}) + "\n"
            for kind in ("wire", "copy")
        ),
        encoding="utf-8",
    )
    ingest.ingest(str(path), [str(corpus)])
    corpus.unlink()
    return Path(path)
