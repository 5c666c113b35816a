"""SQL functions registered by prepare_connection, called directly and through Datasette."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from datasette_provenance.readers import records
from datasette_provenance.web import sqlfunctions
from tests.plugin_support import DB, REUTERS, serve

WIRE = "North Korean leader Kim Jong Un and Russian president Vladimir Putin met for a summit"


def signature(values) -> bytes:
    return np.array(values, dtype="<u4").tobytes()


def test_jaccard_is_the_share_of_equal_minhash_positions():
    assert sqlfunctions.provenance_jaccard(signature([1, 2, 3, 4]), signature([1, 2, 9, 9])) == 0.5
    assert (
        sqlfunctions.provenance_jaccard(signature([2**32 - 1] * 8), signature([2**32 - 1] * 8))
        == 1.0
    )


@pytest.mark.parametrize(
    "a, b",
    [
        (None, signature([1])),
        (signature([1, 2]), signature([1])),
        (b"", b""),
        ("text", "text"),
        (b"abc", b"abc"),
    ],
)
def test_jaccard_returns_null_for_unusable_input(a, b):
    assert sqlfunctions.provenance_jaccard(a, b) is None


def test_containment_is_directional():
    longer = WIRE + ", the Kremlin said, adding that talks would continue in Moscow next month"
    assert sqlfunctions.provenance_containment(WIRE, longer) == 1.0
    assert 0 < sqlfunctions.provenance_containment(longer, WIRE) < 1
    assert (
        sqlfunctions.provenance_containment(WIRE, "something else entirely, nothing shared here")
        == 0.0
    )
    assert sqlfunctions.provenance_containment(WIRE.replace("president", "President"), WIRE) == 1.0
    assert sqlfunctions.provenance_containment("", WIRE) is None
    assert sqlfunctions.provenance_containment(None, WIRE) is None


def test_normalize_matches_the_tokenizer():
    assert (
        sqlfunctions.provenance_normalize("The U.S. Army's Café — 42.7-metre!")
        == "the us armys cafe 427 metre"
    )
    assert sqlfunctions.provenance_normalize(None) is None


@pytest.mark.asyncio
async def test_functions_work_in_datasette_queries(provenance_db_path):
    ds = await serve(provenance_db_path)
    db = ds.get_database(DB)
    row = (
        await db.execute(
            "select provenance_normalize('U.S. officials') as normal, "
            "provenance_containment(s.raw_text, d.raw_text) as copied, "
            "provenance_containment(d.raw_text, s.raw_text) as from_source, "
            "provenance_jaccard(x'01000000', x'01000000') as same "
            "from articles s, articles d where s.id = ? and d.id like '003%'",
            [REUTERS],
        )
    ).first()
    assert row["normal"] == "us officials"
    assert (
        row["copied"] > 0.8 and row["from_source"] < row["copied"]
    )  # 003 appends a whole other story
    assert row["same"] == 1.0


def test_every_function_is_registered_on_a_plain_connection():
    """``register`` adds all four functions, each answering as documented."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    sqlfunctions.register(conn)
    registered = conn.execute(
        "select name from pragma_function_list where name like 'provenance_%'"
    ).fetchall()
    assert {name for (name,) in registered} == {
        "provenance_jaccard",
        "provenance_containment",
        "provenance_normalize",
        "provenance_clean",
    }
    raw = "ADVERTISEMENT\n\nKim met Putin on Wednesday at the cosmodrome in Russia.\n"
    cleaned = conn.execute("select provenance_clean(?)", [raw]).fetchone()[0]
    assert cleaned == "Kim met Putin on Wednesday at the cosmodrome in Russia."


# Forty different 100,000-character texts, one per row (a constant argument would be
# cleaned once): each call takes a noticeable time, and forty rows are too few SQLite
# steps for Datasette's own clock, which looks every thousand.
SLOW_SQL = (
    "with recursive n(i) as (select 1 union all select i + 1 from n where i < 40) "
    "select length(provenance_clean(replace(printf('%.*c', 20000, 'x'), 'x', 'word ') || i)) "
    "as kept from n"
)


def sql_url(sql: str) -> str:
    from urllib.parse import quote

    from datasette.app import Datasette

    query = "/-/query.json" if hasattr(Datasette, "add_query") else ".json"
    return f"/{DB}{query}?sql={quote(sql)}"


@pytest.mark.asyncio
async def test_the_functions_keep_to_datasettes_time_limit(provenance_db_path):
    """Before, this query ran every call (seconds) under a 50 ms limit and answered 200."""
    ds = await serve(provenance_db_path, settings={"sql_time_limit_ms": 50})
    response = await ds.client.get(sql_url(SLOW_SQL))
    assert response.status_code == 400, response.text[:300]
    assert "too long" in response.text


@pytest.mark.asyncio
async def test_huge_values_are_refused_not_built(provenance_db_path):
    """One byte past the limit is enough: without it SQLite builds the value (up to 1 GB),
    and asking for 1 GB costs SQLite's printf 8 CPU s even when it gives up."""
    ds = await serve(provenance_db_path)
    for sql in (
        f"select length(printf('%.*c', {sqlfunctions.MAX_VALUE_BYTES + 1}, 'x')) as n",
        f"select provenance_normalize(printf('%.*c', {sqlfunctions.MAX_TEXT_CHARS + 1}, 'x')) as n",
    ):
        response = await ds.client.get(sql_url(sql))
        if response.status_code == 200:  # a text past MAX_TEXT_CHARS is unusable input
            assert response.json()["rows"][0] in ([None], {"n": None}), sql
        else:  # SQLite's length limit: "string or blob too big"
            assert response.status_code == 400 and "too big" in response.text, sql


def test_the_largest_article_row_can_still_be_sorted_under_the_value_limit():
    """The limit is low (a function gets Python copies of its arguments: two 50 MB strings
    under the old 64 MB limit took 294 MB), but SQLite applies it to whole rows when it
    sorts: two texts of the largest article ingest accepts must still fit."""
    conn = sqlite3.connect(":memory:")
    sqlfunctions.register(conn, time_limit_ms=10_000)
    conn.execute("create table articles (raw_text text, clean_text text, published text)")
    largest = "x" * records.MAX_ARTICLE_BYTES
    conn.execute("insert into articles values (?, ?, '2023')", [largest, largest])
    conn.execute("insert into articles values ('a', 'a', '2022')")
    sorted_rows = conn.execute(
        "select length(raw_text) from (select * from articles order by published)"
    ).fetchall()
    assert sorted_rows == [(1,), (records.MAX_ARTICLE_BYTES,)]
    too_big = conn.execute("select printf('%.*c', ?, 'x')", [sqlfunctions.MAX_VALUE_BYTES + 1])
    assert too_big.fetchall() == [(None,)]  # SQLite's printf gives up rather than build it
