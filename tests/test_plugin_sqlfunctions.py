"""SQL functions registered by prepare_connection, called directly and through Datasette."""

from __future__ import annotations

import numpy as np
import pytest

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
