"""Ingest from where news data lives: SQLite tables, web archives (WARC) and feeds.

Every input here is made by the test: a table written with sqlite3, WARC files written
with warcio, RSS and Atom files written as text.
"""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from datasette_provenance.cli import cli

STORY = (
    "Officials said on Monday that the bridge over the river will reopen next week after "
    "repairs costing 4 million dollars, according to a statement from the city transport "
    "department. Traffic has been diverted since March, when inspectors found cracks in two "
    "of the supporting piers. The mayor said the city would review how its bridges are inspected."
)
OTHER_STORY = (
    "The regional orchestra announced a new season of twelve concerts on Tuesday, opening in "
    "October with a programme of Sibelius and Nielsen under its new principal conductor, who "
    "said she wanted to bring younger audiences to the hall with free student tickets."
)


def ingest(*args, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, ["ingest", *map(str, args)])
    with runner.isolated_filesystem(temp_dir=cwd):
        return runner.invoke(cli, ["ingest", *map(str, args)])


def articles(db: Path) -> dict[str, dict]:
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return {row["id"]: dict(row) for row in conn.execute("select * from articles")}


def skipped_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("skipped: ")]


# --------------------------------------------------------------------------- --from-table


@pytest.fixture
def scraped(tmp_path) -> Path:
    path = tmp_path / "scraped.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("create table stories (link text primary key, headline text, body text, day text)")
        conn.executemany(
            "insert into stories values (?, ?, ?, ?)",
            [
                ("https://news.example/bridge", "Bridge to reopen", STORY, "2024-03-04"),
                ("https://news.example/empty", "Nothing here", "   ", "2024-03-04"),
                ("https://news.example/concerts", "New season", OTHER_STORY, "04/03/2024"),
            ],
        )
        conn.execute("create view recent as select * from stories")
        conn.commit()
    return path


def test_from_table_reads_rows_with_the_column_options(tmp_path, scraped):
    db = tmp_path / "news.db"
    result = ingest(
        db, "--from-table", f"{scraped}:stories", "--id-column", "link",
        "--text-column", "body", "--published-column", "day",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    stored = articles(db)
    assert set(stored) == {"https://news.example/bridge"}
    assert stored["https://news.example/bridge"]["title"] == "Bridge to reopen"  # alias
    assert stored["https://news.example/bridge"]["published"] == "2024-03-04"
    assert skipped_lines(result) == [
        f"skipped: {scraped}:stories:2: empty text",
        f"skipped: {scraped}:stories:3: bad date '04/03/2024': day/month order is ambiguous; "
        "use ISO 8601 (2023-09-13)",
    ]


def test_from_table_reads_a_view_and_adds_nothing_on_a_second_run(tmp_path, scraped):
    db = tmp_path / "news.db"
    options = ["--from-table", f"{scraped}:recent", "--id-column", "link", "--text-column", "body"]
    assert ingest(db, *options).exit_code == 1  # the row with an empty body
    assert len(articles(db)) == 2
    again = ingest(db, *options)
    assert "0 added, 0 updated, 2 unchanged, 1 skipped" in again.output


def test_from_table_in_the_database_being_ingested_into(tmp_path):
    """A scraper's table inside news.db itself: read in batches while articles are written."""
    db = tmp_path / "news.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("create table scraped (id text, text text)")
        conn.executemany(
            "insert into scraped values (?, ?)",
            [(f"story-{n}", f"{STORY} Story number {n}.") for n in range(1200)],
        )
        conn.commit()
    result = ingest(db, "--from-table", f"{db}:scraped", "--no-match", "-q")
    assert result.exit_code == 0, result.output
    assert len(articles(db)) == 1200


@pytest.mark.parametrize(
    "source, message",
    [
        ("{dir}/missing.db:stories", "{dir}/missing.db: no such file"),
        ("{dir}/notes.txt:stories", "{dir}/notes.txt: cannot read as SQLite (file is not a database)"),
        ("{scraped}:nope", "{scraped}: no table 'nope' (tables: recent, stories)"),
        ("{scraped}", "--from-table wants FILE:TABLE, got '{scraped}'"),
        (
            "{scraped}:stories",
            "{scraped}:stories: no id column (one of id, article_id, doc_id, document_id, guid, "
            "uuid, key); columns are: link, headline, body, day",
        ),
    ],
)
def test_from_table_problems_stop_before_writing(tmp_path, scraped, source, message):
    (tmp_path / "notes.txt").write_text("not a database " * 100)
    db = tmp_path / "news.db"
    result = ingest(db, "--from-table", source.format(dir=tmp_path, scraped=scraped))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: " + message.format(dir=tmp_path, scraped=scraped)
    ]
    assert not db.exists()


def test_from_table_skips_a_row_whose_text_is_not_utf8_and_reads_on(tmp_path):
    source = tmp_path / "scraped.db"
    with closing(sqlite3.connect(source)) as conn:
        conn.execute("create table stories (id text, text text, notes text)")
        conn.execute("insert into stories values ('first', ?, cast(? as text))", (STORY, b"\xff"))
        conn.execute("insert into stories values ('bad', cast(? as text), '')", (b"caf\xe9 au lait",))
        conn.execute("insert into stories values ('last', ?, '')", (OTHER_STORY,))
        conn.commit()
    db = tmp_path / "news.db"
    result = ingest(db, "--from-table", f"{source}:stories", "--no-match")
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == len(result.output.splitlines())  # one line each
    assert skipped_lines(result) == [
        f"skipped: {source}:stories:2: column 'text' is not UTF-8 text (byte 0xe9 at offset 3)"
    ]
    assert set(articles(db)) == {"first", "last"}  # an unused column's bytes do not matter


def test_a_table_damaged_part_way_stops_naming_it_and_keeps_every_row_read(tmp_path, monkeypatch):
    """sqlite3's "database disk image is malformed" alone would not say which database
    failed: the table's own file. Exit 3 (part written), and every row read before the
    damage is stored, the batch still being prepared included."""
    from datasette_provenance import ingest as ingest_module
    from datasette_provenance.readers import tables

    source = tmp_path / "scraped.db"
    with closing(sqlite3.connect(source)) as conn:
        conn.execute("create table stories (id text, text text)")
        conn.executemany(
            "insert into stories values (?, ?)",
            [(f"s{n}", f"{STORY} Number {n}. " * 8) for n in range(300)],
        )
        conn.commit()
    size = source.stat().st_size
    with open(source, "r+b") as damaged:
        damaged.seek(size // 2)
        damaged.write(b"\xff" * 20_000)
    monkeypatch.setattr(tables, "BATCH_ROWS", 50)
    monkeypatch.setattr(ingest_module, "BATCH_SIZE", 50)
    db = tmp_path / "news.db"
    result = ingest(db, "--from-table", f"{source}:stories", "--no-match")
    assert result.exit_code == 3, result.output
    error = result.output.strip()
    assert error.count("\n") == 0
    assert error.startswith(f"error: {source}:stories: cannot read past row ")
    assert "(database disk image is malformed)" in error
    read = int(error.split("cannot read past row ")[1].split()[0])
    assert 0 < read < 300
    assert error.endswith(f"stopped after {read:,} articles were written (they are kept)")
    assert set(articles(db)) == {f"s{n}" for n in range(read)}
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)


def test_from_table_streams_views_and_without_rowid_tables(tmp_path, monkeypatch):
    """Read a batch at a time, never the whole table at once."""
    from datasette_provenance.readers import tables

    source = tmp_path / "scraped.db"
    with closing(sqlite3.connect(source)) as conn:
        conn.execute("create table keyed (id text primary key, text text) without rowid")
        conn.executemany(
            "insert into keyed values (?, ?)", [(f"s{n}", f"{STORY} Number {n}.") for n in range(7)]
        )
        conn.execute("create view everything as select * from keyed")
        conn.commit()
    fetched = []
    connect = tables.TableSource._connect

    class Watched:
        def __init__(self, cursor):
            self.cursor = cursor

        def fetchmany(self, size):
            rows = self.cursor.fetchmany(size)
            fetched.append(len(rows))
            return rows

        def fetchall(self):
            raise AssertionError("read the whole table at once")

    class WatchedConnection:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, *args):
            return Watched(self.conn.execute(*args))

        def close(self):
            self.conn.close()

    monkeypatch.setattr(tables, "BATCH_ROWS", 3)
    for name in ("keyed", "everything"):
        fetched.clear()
        spec = f"{source}:{name}"
        made = tables.TableSource(spec)
        monkeypatch.setattr(made, "_connect", lambda: WatchedConnection(connect(made)))
        records = list(made.records())
        assert [record.id for record in records] == [f"s{n}" for n in range(7)]
        assert max(fetched) <= 3 and sum(fetched) == 7


def test_from_table_reads_a_json_array_of_inferred_fields(tmp_path):
    source = tmp_path / "scraped.db"
    with closing(sqlite3.connect(source)) as conn:
        conn.execute("create table stories (id text, text text, outlet text, inferred text)")
        conn.execute(
            "insert into stories values ('a', ?, 'Wire', ?)", (STORY, json.dumps(["outlet"]))
        )
        conn.execute("insert into stories values ('b', ?, 'Wire', '[\"outlet\"')", (OTHER_STORY,))
        conn.commit()
    db = tmp_path / "news.db"
    result = ingest(db, "--from-table", f"{source}:stories", "--no-match")
    assert json.loads(articles(db)["a"]["inferred_fields"]) == ["outlet"]
    assert skipped_lines(result) == [
        f"skipped: {source}:stories:2: 'inferred' is not a JSON array: '[\"outlet\"'"
    ]


# --------------------------------------------------------------------------- WARC


def page(title: str, text: str, date: str | None = None) -> bytes:
    meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in text.split(". "))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{meta}'
        f"</head><body><nav>Home | World | Sport</nav><article><h1>{title}</h1>{paragraphs}"
        "</article><footer>Copyright 2024 Example News</footer></body></html>"
    ).encode()


def write_warc(path: Path, responses, gzip_records: bool) -> Path:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=gzip_records)
        for url, status, content_type, body in responses:
            headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), length=len(body),
                    http_headers=headers, warc_headers_dict={"WARC-Date": "2024-03-05T06:07:08Z"},
                )
            )  # fmt: skip
    return path


CRAWL = [
    ("https://news.example/bridge", "200 OK", "text/html; charset=utf-8",
     page("Bridge to reopen", STORY, "2024-03-04T09:00:00Z")),
    ("https://news.example/logo.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\n..."),
    ("https://news.example/old", "301 Moved Permanently", "text/html", b"<html>moved</html>"),
    ("https://news.example/concerts", "200 OK", "text/html", page("New season", OTHER_STORY)),
]  # fmt: skip


@pytest.mark.parametrize("name, gzip_records", [("crawl.warc", False), ("crawl.warc.gz", True)])
def test_warc_html_responses_become_articles(tmp_path, name, gzip_records):
    warc = write_warc(tmp_path / name, CRAWL, gzip_records)
    db = tmp_path / "news.db"
    result = ingest(db, warc, "--no-match")
    assert result.exit_code == 0, result.output
    stored = articles(db)
    assert set(stored) == {"https://news.example/bridge", "https://news.example/concerts"}
    bridge = stored["https://news.example/bridge"]
    assert bridge["title"] == "Bridge to reopen"
    assert bridge["url"] == "https://news.example/bridge"
    assert bridge["published"] == "2024-03-04"  # the page's own date
    assert "Home | World" not in bridge["raw_text"] and "cracks in two" in bridge["raw_text"]
    concerts = stored["https://news.example/concerts"]
    assert concerts["published"] == "2024-03-05T06:07:08+00:00"  # the capture time ...
    assert "published" in json.loads(concerts["inferred_fields"])  # ... marked as a guess


def test_a_directory_of_warc_files_is_walked(tmp_path):
    folder = tmp_path / "crawl"
    folder.mkdir()
    write_warc(folder / "a.warc.gz", CRAWL[:1], True)
    write_warc(folder / "b.warc", CRAWL[3:], False)
    result = ingest(tmp_path / "news.db", folder, "--no-match")
    assert result.exit_code == 0, result.output
    assert len(articles(tmp_path / "news.db")) == 2


def test_a_warc_gz_compressed_as_one_stream_is_read_too(tmp_path):
    """Some tools gzip a whole WARC instead of each record; warcio refuses it half-way."""
    plain = write_warc(tmp_path / "plain.warc", CRAWL, False)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    result = ingest(tmp_path / "news.db", whole, "--no-match")
    assert result.exit_code == 0, result.output
    assert len(articles(tmp_path / "news.db")) == 2


def test_bad_warc_files_are_skipped_with_one_line(tmp_path):
    good = write_warc(tmp_path / "good.warc.gz", CRAWL, True)
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(good.read_bytes()[:-60])  # the last record loses its end
    text = tmp_path / "notes.warc"
    text.write_text("these are my notes, not a web archive\n")
    db = tmp_path / "news.db"
    result = ingest(db, cut, text, "--no-match")
    assert result.exit_code == 1
    assert skipped_lines(result) == [
        f"skipped: {cut}: record 4 (https://news.example/concerts): record cut short "
        "(the file ends inside it)",
        f"skipped: {text}: not a readable WARC file (record 1 is not a WARC record)",
    ]
    assert set(articles(db)) == {"https://news.example/bridge"}  # read before the cut


def test_a_warc_cut_anywhere_says_so_in_one_line_and_keeps_what_came_before(tmp_path):
    """Cut inside a record's headers or body, plain or gzipped at any byte: never a
    traceback, never a silent loss; the records before the cut are kept."""
    for name, gzip_records in (("crawl.warc", False), ("crawl.warc.gz", True)):
        whole = write_warc(tmp_path / name, CRAWL, gzip_records).read_bytes()
        ends = record_ends(tmp_path / name)
        for cut in range(10, len(whole) - 20, 61):
            if any(end <= cut and not whole[end:cut].strip() for end in ends):
                continue  # cut between two records: nothing tells it from a shorter file
            broken = tmp_path / f"cut-{cut}-{name}"
            broken.write_bytes(whole[:cut])
            db = tmp_path / f"{cut}-{name}.db"
            result = ingest(db, broken, "--no-match")
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                cut, result.output)
            assert result.exit_code == 1, (cut, result.output)
            lines = skipped_lines(result)
            assert len(lines) == 1 and lines[0].startswith(f"skipped: {broken}: "), (cut, lines)
            kept = set(articles(db)) if db.exists() else set()
            assert kept <= {"https://news.example/bridge"}
            if cut > len(whole) // 2:
                assert kept == {"https://news.example/bridge"}, cut


def record_ends(path: Path) -> list[int]:
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as handle:
        iterator = ArchiveIterator(handle)
        return [
            iterator.get_record_offset() + iterator.get_record_length() for _ in iterator
        ]


def test_a_warc_error_line_has_no_control_characters(tmp_path):
    url = "https://news.example/\x1b[31mred\x07"
    good = write_warc(tmp_path / "crawl.warc", [(url, "200 OK", "text/html", page("Red", STORY))], False)
    cut = tmp_path / "cut.warc"
    cut.write_bytes(good.read_bytes()[:-60])
    result = ingest(tmp_path / "news.db", cut, "--no-match")
    (line,) = skipped_lines(result)
    assert line == (
        f"skipped: {cut}: record 1 (https://news.example/\\x1b[31mred\\x07): record cut short "
        "(the file ends inside it)"
    )
    assert line.isprintable()


# --------------------------------------------------------------------------- feeds


def rss(items: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>\n'
        f"<title>Example News</title><link>https://news.example/</link>\n{items}\n</channel></rss>\n"
    )


RSS_ITEMS = f"""<item><title>Bridge to reopen</title><link>https://news.example/bridge</link>
<guid isPermaLink="false">example-1</guid><pubDate>Mon, 04 Mar 2024 09:00:00 GMT</pubDate>
<description>The bridge reopens next week.</description>
<content:encoded><![CDATA[<p>{STORY}</p>]]></content:encoded></item>
<item><title>New season</title><link>https://news.example/concerts</link>
<description><![CDATA[<p>{OTHER_STORY}</p>]]></description></item>
<item><title>Without a link</title><description>Some text.</description></item>"""

ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Wire</title>
<entry><id>tag:wire.example,2024:1</id><title>Bridge to reopen</title>
<link href="https://wire.example/1"/><updated>2024-03-04T08:00:00Z</updated>
<content type="html">&lt;p&gt;{STORY}&lt;/p&gt;</content></entry></feed>
"""


def test_rss_items_become_articles(tmp_path):
    feed = tmp_path / "news.rss"
    feed.write_text(rss(RSS_ITEMS), encoding="utf-8")
    db = tmp_path / "news.db"
    result = ingest(db, feed, "--no-match")
    assert result.exit_code == 1
    assert skipped_lines(result) == [f"skipped: {feed}: entry 3: entry without an id or link"]
    stored = articles(db)
    assert set(stored) == {"example-1", "https://news.example/concerts"}
    bridge = stored["example-1"]
    assert bridge["raw_text"].startswith("Officials said on Monday")  # content, not summary
    assert (bridge["title"], bridge["url"], bridge["published"]) == (
        "Bridge to reopen", "https://news.example/bridge", "2024-03-04T09:00:00+00:00",
    )  # fmt: skip
    assert bridge["outlet"] == "Example News"
    assert json.loads(bridge["inferred_fields"]) == ["outlet"]
    assert "<p>" not in stored["https://news.example/concerts"]["raw_text"]


def test_atom_entries_become_articles(tmp_path):
    feed = tmp_path / "wire.atom"
    feed.write_text(ATOM, encoding="utf-8")
    db = tmp_path / "news.db"
    assert ingest(db, feed, "--no-match").exit_code == 0
    (entry,) = articles(db).values()
    assert entry["id"] == "tag:wire.example,2024:1"
    assert entry["published"] == "2024-03-04T08:00:00+00:00"
    assert entry["raw_text"].startswith("Officials said on Monday")


def test_bad_feeds_are_skipped_with_one_line(tmp_path):
    cut = tmp_path / "cut.rss"
    full = rss(RSS_ITEMS)
    cut.write_text(full[: full.index("<item><title>New season") + 60], encoding="utf-8")
    not_feed = tmp_path / "page.rss"
    not_feed.write_text("just some words, not XML at all", encoding="utf-8")
    empty = tmp_path / "empty.atom"
    empty.write_text('<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>')
    db = tmp_path / "news.db"
    result = ingest(db, cut, not_feed, empty, "--no-match")
    assert result.exit_code == 1
    lines = skipped_lines(result)
    assert lines[0].startswith(f"skipped: {cut}:") and lines[0].endswith(
        "the file ends inside entry 2 (cut short?)"
    )
    assert lines[1].startswith(f"skipped: {not_feed}:") and "not an RSS or Atom feed" in lines[1]
    assert lines[2] == f"skipped: {empty}: a feed without entries"
    assert set(articles(db)) == {"example-1"}  # the whole entry before the cut


def test_an_html_fragment_file_gives_its_text(tmp_path):
    """No <html> or <body>: trafilatura finds nothing in a bare fragment unless it is wrapped."""
    fragment = tmp_path / "snippet.html"
    fragment.write_text(f"<p>{STORY}</p>", encoding="utf-8")
    result = ingest(tmp_path / "news.db", fragment, "--no-match")
    assert result.exit_code == 0, result.output
    assert articles(tmp_path / "news.db")["snippet"]["raw_text"].startswith("Officials said")


def test_empty_feeds_are_skipped_with_one_line(tmp_path):
    empty = tmp_path / "empty.rss"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.atom"
    blank.write_text("  \n")
    no_version = tmp_path / "tiny.rss"
    no_version.write_text("<?xml version='1.0'?><nothing/>")
    db = tmp_path / "news.db"
    result = ingest(db, empty, blank, no_version, "--no-match")
    assert result.exit_code == 1, result.output
    assert skipped_lines(result) == [
        f"skipped: {empty}: empty file",
        f"skipped: {blank}: empty file",
        f"skipped: {no_version}: not an RSS or Atom feed",
    ]


def test_feed_entries_without_tags_lose_their_entities_and_guids_are_not_urls(tmp_path):
    feed = tmp_path / "news.rss"
    items = f"""<item><title>Cafe</title><guid>story-1234</guid>
<description>{STORY} Tom &amp;amp; Jerry&amp;#8217;s caf&amp;eacute; &amp;lt;3.</description></item>"""
    feed.write_text(rss(items), encoding="utf-8")
    db = tmp_path / "news.db"
    result = ingest(db, feed, "--no-match")
    assert result.exit_code == 0, result.output
    (entry,) = articles(db).values()
    assert entry["id"] == "story-1234"
    assert entry["url"] is None  # a guid that is no web address
    assert entry["raw_text"].endswith("Tom & Jerry\u2019s caf\u00e9 <3.")


def test_a_feed_may_be_larger_than_one_article(tmp_path, monkeypatch):
    from datasette_provenance.readers import feeds, records

    monkeypatch.setattr(feeds, "MAX_FEED_BYTES", 4096)
    feed = tmp_path / "big.rss"
    items = "".join(
        f"<item><guid>s{n}</guid><description>{STORY} Number {n}.</description></item>"
        for n in range(12)
    )
    feed.write_text(rss(items), encoding="utf-8")
    result = ingest(tmp_path / "news.db", feed, "--no-match")
    size = feed.stat().st_size / 1024 / 1024
    assert skipped_lines(result) == [
        f"skipped: {feed}: file is {size:.1f} MB, over the 0.00390625 MB limit for one feed"
    ]
    assert records.MAX_FEED_BYTES > records.MAX_ARTICLE_BYTES
