"""Readers: every input format, metadata normalisation, and every bad-input case.

Bad input is either skipped-and-reported (``iter_records`` yields an ``InputError``)
or stops the run (``iter_records`` / ``read_manifest`` raise). Each message is one
line that names the file and, where there is one, the line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from datasette_provenance import readers
from datasette_provenance.readers import (
    ArticleRecord,
    ColumnNames,
    InputError,
    iter_records,
    read_manifest,
)
from datasette_provenance.readers.decoding import decode_text
from datasette_provenance.readers.dates import normalize_published

DATA = Path(__file__).parent / "data" / "ingest"
SEEDS = Path(__file__).parent.parent / "seeds"


def records(paths, columns=None) -> list[ArticleRecord]:
    return [item for item in iter_records(paths, columns) if isinstance(item, ArticleRecord)]


def errors(paths, columns=None) -> list[InputError]:
    return [item for item in iter_records(paths, columns) if isinstance(item, InputError)]


def only_error(paths, columns=None) -> InputError:
    found = errors(paths, columns)
    assert len(found) == 1, [str(e) for e in found]
    return found[0]


def assert_one_line(message: str) -> None:
    assert "\n" not in message and "\r" not in message
    assert "Traceback" not in message


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- formats


def test_seed_directory_reads_every_txt_in_sorted_order():
    found = records(SEEDS)
    assert [record.id for record in found] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    first = found[0]
    assert first.id == "000_5bbc07b3f689fc76"
    assert first.title is None  # cleaning finds the title
    assert first.text == (SEEDS / "000_5bbc07b3f689fc76.txt").read_text(encoding="utf-8")
    assert first.source_path == os.path.join(str(SEEDS), "000_5bbc07b3f689fc76.txt")


def test_directory_recurses_sorted_and_ignores_hidden_and_other_files(tmp_path):
    write(tmp_path / "b.txt", "Second article text.")
    write(tmp_path / "a" / "z.txt", "Nested article text.")
    write(tmp_path / ".hidden.txt", "Hidden.")
    write(tmp_path / ".git" / "x.txt", "Not an article.")
    write(tmp_path / "notes.md", "# not an article")
    write(tmp_path / "c.TXT", "Upper-case extension.")
    assert [r.id for r in records(tmp_path)] == ["z", "b", "c"]


def test_list_of_files_and_same_file_twice_is_read_once(tmp_path):
    one = write(tmp_path / "one.txt", "First.")
    two = write(tmp_path / "two.txt", "Second.")
    assert [r.id for r in records([two, one, str(one)])] == ["two", "one"]
    assert [r.id for r in records(str(one))] == ["one"]  # a single path works too


@pytest.mark.parametrize("extension", [".jsonl", ".ndjson"])
def test_jsonl_with_aliases_and_metadata(tmp_path, extension):
    lines = [
        {
            "id": "a1",
            "body": "Text one.",
            "headline": "Title one",
            "source": "Reuters",
            "link": "https://example.org/a1",
            "date": "2023-09-13T08:00:00Z",
            "lang": "EN_us",
            "inferred": ["outlet"],
        },
        {"article_id": 7, "content": "Text two.", "published": "September 13, 2023"},
    ]
    path = write(
        tmp_path / f"batch{extension}", "\n".join(json.dumps(line) for line in lines) + "\n\n"
    )
    first, second = records(path)
    assert first == ArticleRecord(
        id="a1",
        text="Text one.",
        title="Title one",
        outlet="Reuters",
        url="https://example.org/a1",
        published="2023-09-13T08:00:00+00:00",
        language="en-US",
        inferred_fields=["outlet"],
        source_path=f"{path}:1",
    )
    assert (second.id, second.text, second.published, second.source_path) == (
        "7",
        "Text two.",
        "2023-09-13",
        f"{path}:2",
    )


def test_jsonl_text_is_kept_verbatim(tmp_path):
    text = "  Line one.\r\n\r\nLine two with trailing spaces.   \n"
    path = write(tmp_path / "a.jsonl", json.dumps({"id": "x", "text": text}))
    assert records(path)[0].text == text


def test_csv_with_custom_columns_multiline_field_and_semicolons(tmp_path):
    path = write(
        tmp_path / "export.csv",
        "doc;story_text;head;paper;when\n"
        'd1;"First paragraph.\n\nSecond; with a semicolon and ""quotes"".";'
        "Head one;The Paper;2023-09-13\n"
        "d2;Plain text;;;\n",
    )
    columns = ColumnNames(
        id="doc", text="STORY_TEXT", title="head", outlet="paper", published="when"
    )
    first, second = records(path, columns)
    assert first.id == "d1"
    assert first.text == 'First paragraph.\n\nSecond; with a semicolon and "quotes".'
    assert (first.title, first.outlet, first.published) == ("Head one", "The Paper", "2023-09-13")
    assert first.source_path == f"{path}:2"
    assert (second.id, second.title, second.outlet, second.published) == ("d2", None, None, None)
    assert second.source_path == f"{path}:5"  # the record after the three-line one


def test_csv_default_aliases_and_tsv(tmp_path):
    csv_path = write(tmp_path / "a.csv", "ID,Body,Title\n1,Some text,A title\n")
    tsv_path = write(tmp_path / "b.tsv", "id\ttext\n2\tTab, separated\n")
    assert [(r.id, r.text, r.title) for r in records([csv_path, tsv_path])] == [
        ("1", "Some text", "A title"),
        ("2", "Tab, separated", None),
    ]


@pytest.mark.parametrize(
    "content",
    [
        b"id,text\r1,hello\r2,two\r",  # classic Mac line ends (Excel "CSV (Macintosh)")
        b"id,text\r\n1,hello\r\n2,two\r\n",
        "id,text\n1,hello\n2,two\n".encode("utf-16"),
    ],
    ids=["cr", "crlf", "utf-16"],
)
def test_csv_line_endings_and_utf16(tmp_path, content):
    path = write(tmp_path / "a.csv", content)
    found = list(iter_records(path))
    assert [(r.id, r.text, r.source_path) for r in found] == [
        ("1", "hello", f"{path}:2"),
        ("2", "two", f"{path}:3"),
    ]


def test_a_lone_cr_file_bigger_than_one_article_may_be_is_read_line_by_line(
    tmp_path, monkeypatch
):
    """Its lines come out of one long LF-less "line": each within the limit is kept, one
    over it is reported (the limit is made small here instead of writing 20 MB)."""
    monkeypatch.setattr(readers.records, "MAX_ARTICLE_BYTES", 100)
    rows = [f"{n},article number {n}".encode() for n in range(1, 40)]
    rows.insert(20, b"99," + b"x" * 150)  # line 22 (after the header): over the limit
    path = write(tmp_path / "mac.csv", b"\r".join([b"id,text", *rows]) + b"\r")
    found = list(iter_records(path))
    records = [r for r in found if not isinstance(r, InputError)]
    problems = [str(r) for r in found if isinstance(r, InputError)]
    assert [r.id for r in records][:3] == ["1", "2", "3"] and len(records) >= 38
    assert "99" not in [r.id for r in records]
    assert [problem.split(": ")[0] for problem in problems] == [f"{path}:22"]
    assert "limit" in problems[0]


def test_csv_quoted_field_with_crlf_inside(tmp_path):
    path = write(tmp_path / "a.csv", b'id,text\r\n1,"multi\r\nline"\r\n2,next\r\n')
    assert [(r.id, r.text, r.source_path) for r in records(path)] == [
        ("1", "multi\r\nline", f"{path}:2"),
        ("2", "next", f"{path}:4"),
    ]


def test_html_main_text_title_date_url_and_inferred_outlet():
    (record,) = records(DATA / "summit.html")
    assert record.id == "summit"
    assert record.title == "Kim and Putin meet at Russian spaceport"
    assert record.published == "2023-09-13"
    assert record.url == "https://news.example.org/world/kim-putin-summit"
    assert record.outlet == "Example News" and record.inferred_fields == ["outlet"]
    assert record.language == "en-GB"
    assert "Vostochny Cosmodrome" in record.text
    assert "Cookie settings" not in record.text and "Sport" not in record.text


def test_html_without_main_text_falls_back_to_visible_text(tmp_path):
    path = write(
        tmp_path / "tiny.htm", "<html><body><div>Short note: Kim met Putin.</div></body></html>"
    )
    (record,) = records(path)
    assert "Kim met Putin" in record.text
    assert (record.title, record.published) == (None, None)


def test_html_in_declared_legacy_charset(tmp_path):
    page = (
        '<html><head><meta charset="windows-1251"></head>'
        "<body><p>Путин встретился с Ким Чен Ыном.</p></body></html>"
    )
    path = write(tmp_path / "ru.html", page.encode("cp1251"))
    assert "Путин встретился" in records(path)[0].text


# --------------------------------------------------------------------------- encodings


def test_utf8_bom_is_dropped(tmp_path):
    path = write(tmp_path / "bom.txt", "\ufeffHeadline\n\nBody.".encode("utf-8"))
    assert records(path)[0].text == "Headline\n\nBody."


def test_bom_in_jsonl_and_csv_first_line(tmp_path):
    jsonl = write(
        tmp_path / "a.jsonl", b"\xef\xbb\xbf" + json.dumps({"id": "j", "text": "T"}).encode()
    )
    csv_file = write(tmp_path / "b.csv", b"\xef\xbb\xbfid,text\nc,T\n")
    assert [r.id for r in records([jsonl, csv_file])] == ["j", "c"]


def test_cp1252_file_with_smart_quotes(tmp_path):
    text = "\u201cWe came here,\u201d Putin said \u2014 the caf\u00e9\u2019s owner agreed."
    path = write(tmp_path / "legacy.txt", text.encode("cp1252"))
    assert records(path)[0].text == text


@pytest.mark.parametrize(
    "encoding, text",
    [
        ("cp1251", "Президент России Владимир Путин встретился с лидером КНДР."),
        ("koi8_r", "Президент России Владимир Путин встретился с лидером КНДР."),
        ("cp1256", "التقى الزعيم الكوري الشمالي كيم جونغ أون بالرئيس الروسي فلاديمير بوتين."),
        ("utf-16", "UTF-16 with a BOM: «Путин» and “Kim”."),
    ],
)
def test_other_encodings_are_recognised(tmp_path, encoding, text):
    path = write(tmp_path / "legacy.txt", text.encode(encoding))
    assert records(path)[0].text == text


def test_legacy_encoding_per_line_in_jsonl(tmp_path):
    good = json.dumps({"id": "u", "text": "caf\u00e9"}, ensure_ascii=False).encode("utf-8")
    legacy = json.dumps(
        {"id": "l", "text": "caf\u00e9 \u201cquoted\u201d"}, ensure_ascii=False
    ).encode("cp1252")
    path = write(tmp_path / "mixed.jsonl", good + b"\n" + legacy + b"\n")
    assert [r.text for r in records(path)] == ["caf\u00e9", "caf\u00e9 \u201cquoted\u201d"]


def test_decode_text_refuses_garbage():
    assert decode_text(b"\x81\x8d\x8f\x90\x9d") is None
    assert decode_text(bytes(range(128, 256))) is None
    assert decode_text("plain".encode()) == "plain"


# --------------------------------------------------------------------------- skip and report


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("empty.txt", b"", "empty.txt: empty text"),
        ("blank.txt", b"  \n\t\r\n ", "blank.txt: empty text"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.txt: binary file"),
        (
            "controls.txt",
            bytes([1, 2, 3, 4, 5, 6, 7, 8] * 20) + b"text",
            "controls.txt: binary file",
        ),
        (
            "garbage.txt",
            b"\x81\x8d\x8f\x90\x9d" * 10,
            "garbage.txt: not valid UTF-8 (byte 0x81 at offset 0)",
        ),
        ("empty.jsonl", b"", "empty.jsonl: empty file"),
        ("empty.csv", b"", "empty.csv: empty file"),
        ("header-only.csv", b"id,text\n", None),
        ("blank-lines.jsonl", b"\n \n", "blank-lines.jsonl: empty file"),
        (
            "nul.jsonl",
            b'{"id": "a", "text": "x"}\n{"id": "b",\x00 "text": "y"}\n',
            "nul.jsonl: binary file",
        ),
    ],
)
def test_bad_files_are_skipped_with_one_line_message(tmp_path, name, content, expected):
    path = write(tmp_path / name, content)
    found = errors(path)
    if expected is None:
        assert found == [] and records(path) == []
        return
    assert len(found) == 1
    message = str(found[0])
    assert_one_line(message)
    assert message.startswith(str(tmp_path / expected.split(": ")[0]))
    assert expected.split(": ", 1)[1] in message


@pytest.mark.parametrize(
    "line, expected",
    [
        ('{"id": "a" "text": "x"}', "invalid JSON (Expecting ',' delimiter at column 12)"),
        ("[1, 2]", "expected a JSON object, got an array"),
        ('"just a string"', "expected a JSON object, got a string"),
        ('{"text": "no id"}', "no id (one of id, article_id"),
        ('{"id": "", "text": "x"}', "empty id"),
        ('{"id": "a"}', "no text (one of text, body, content"),
        ('{"id": "a", "text": "   "}', "empty text"),
        ('{"id": "a", "text": null}', "empty text"),
        ('{"id": "a", "text": ["x"]}', "field 'text' must be a string, got an array"),
        ('{"id": true, "text": "x"}', "field 'id' must be a string or integer, got a boolean"),
        (
            '{"id": "a", "text": "x", "title": {"x": 1}}',
            "field 'title' must be a string, got an object",
        ),
        (
            '{"id": "a", "text": "x", "date": "13/09/2023"}',
            "bad date '13/09/2023': day/month order is ambiguous",
        ),
        (
            '{"id": "a", "text": "x", "date": 1694592000}',
            "field 'date' must be a string, got a number",
        ),
        ('{"id": "a", "text": "x", "lang": "English"}', "bad language 'English'"),
        (
            '{"id": "a", "text": "x", "inferred": "outlet, colour"}',
            "unknown field 'colour' in 'inferred'",
        ),
        ('{"id": "a", "text": "x\\u0000y"}', "text looks binary"),
        ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
    ],
)
def test_bad_jsonl_lines_name_file_and_line(tmp_path, line, expected):
    path = write(
        tmp_path / "articles.jsonl", json.dumps({"id": "ok", "text": "Fine."}) + "\n" + line + "\n"
    )
    assert [r.id for r in records(path)] == ["ok"]  # the good line still arrives
    error = only_error(path)
    assert str(error).startswith(f"{path}:2: ")
    assert expected in str(error)
    assert (error.path, error.line) == (str(path), 2)
    assert_one_line(str(error))


def test_oversized_json_line_is_skipped_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(readers.records, "MAX_ARTICLE_BYTES", 1000)
    big = json.dumps({"id": "big", "text": "x" * 5000})
    path = write(tmp_path / "a.jsonl", big + "\n" + json.dumps({"id": "ok", "text": "y"}) + "\n")
    assert [r.id for r in records(path)] == ["ok"]
    assert str(only_error(path)) == f"{path}:1: line over the 0.000953674 MB limit for one article"


def test_huge_text_file_is_skipped_with_size(tmp_path, monkeypatch):
    monkeypatch.setattr(readers.records, "MAX_ARTICLE_BYTES", 2 * 1024 * 1024)
    path = write(tmp_path / "dump.txt", b"word " * (600 * 1024))
    message = str(only_error(path))
    assert message == f"{path}: file is 2.9 MB, over the 2 MB limit for one article"


@pytest.mark.parametrize(
    "body, line, expected",
    [
        ('a,"bad"quote\nb,fine\n', 2, "malformed CSV record: ',' expected after '\"'"),
        ("a,one,extra\nb,fine\n", 2, "malformed CSV record: 3 fields, the header has 2"),
        (
            'b,fine\na,"never closed\nmore\n',
            3,
            "malformed CSV record: unterminated quoted field (it runs to the end of the file)",
        ),
        ("b,fine\nc,\n", 3, "empty text"),
        ("b,fine\n,no id\n", 3, "empty id"),
    ],
)
def test_malformed_csv_records_name_file_and_line(tmp_path, body, line, expected):
    path = write(tmp_path / "articles.csv", "id,text\n" + body)
    assert [r.id for r in records(path)] == ["b"]
    assert str(only_error(path)) == f"{path}:{line}: {expected}"


def test_csv_without_text_column_is_skipped(tmp_path):
    path = write(tmp_path / "meta.csv", "id,outlet\n1,Reuters\n")
    assert str(only_error(path)) == (
        f"{path}:1: no text column (one of text, body, content, article, full_text, fulltext, "
        "maintext, raw_text, article_text, story); columns are: id, outlet"
    )
    named = only_error(path, ColumnNames(text="story_body"))
    assert "no text column ('story_body')" in str(named)


def test_undecodable_csv_line_skips_only_its_record(tmp_path):
    path = write(tmp_path / "a.csv", b"id,text\n1,ok\n2,\x81\x8d\x8f\x90\x9d\n3,also ok\n")
    assert [r.id for r in records(path)] == ["1", "3"]
    assert str(only_error(path)).startswith(f"{path}:3: not valid UTF-8")


def test_duplicate_ids_name_both_places(tmp_path):
    write(tmp_path / "a" / "story.txt", "First copy.")
    write(tmp_path / "b" / "story.txt", "Second copy.")
    batch = write(tmp_path / "c.jsonl", json.dumps({"id": "story", "text": "Third."}) + "\n")
    found = list(iter_records(tmp_path))
    assert [r.text for r in found if isinstance(r, ArticleRecord)] == ["First copy."]
    messages = [str(e) for e in found if isinstance(e, InputError)]
    first = os.path.join(str(tmp_path), "a", "story.txt")
    assert messages == [
        f"{tmp_path / 'b' / 'story.txt'}: duplicate id 'story' (first seen at {first})",
        f"{batch}:1: duplicate id 'story' (first seen at {first})",
    ]


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    good = write(tmp_path / "good.txt", "Readable.")
    locked = write(tmp_path / "locked.txt", "Secret.")
    real_open = open

    def fake_open(path, *args, **kwargs):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", fake_open)
    assert [r.id for r in records([good, locked])] == ["good"]
    assert str(only_error([good, locked])) == f"{locked}: cannot read file (Permission denied)"


def test_unlistable_subdirectory_is_skipped(tmp_path, monkeypatch):
    write(tmp_path / "ok" / "a.txt", "Fine.")
    write(tmp_path / "private" / "b.txt", "Hidden.")
    real_scandir = os.scandir

    def fake_scandir(path="."):
        if os.fspath(path).endswith("private"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", fake_scandir)
    assert [r.id for r in records(tmp_path)] == ["a"]
    assert (
        str(only_error(tmp_path))
        == f"{tmp_path / 'private'}: cannot list directory (Permission denied)"
    )


def test_file_name_with_newline_still_gives_one_line(tmp_path):
    path = write(tmp_path / "odd\nname.txt", "")
    message = str(only_error(path))
    assert_one_line(message)
    assert "odd\\nname.txt: empty text" in message


# --------------------------------------------------------------------------- stop the run


def test_missing_path_stops_before_anything_is_read(tmp_path):
    good = write(tmp_path / "good.txt", "Fine.")
    generator = iter_records([good, tmp_path / "nope"])
    with pytest.raises(InputError) as raised:
        next(generator)
    assert str(raised.value) == f"{tmp_path / 'nope'}: no such file or directory"


def test_unsupported_file_type_given_explicitly_stops(tmp_path):
    path = write(tmp_path / "report.docx", b"PK\x03\x04")
    with pytest.raises(
        InputError, match=r"report\.docx: unsupported file type '\.docx'; expected one of"
    ):
        list(iter_records(path))


def test_unlistable_directory_given_explicitly_stops(tmp_path, monkeypatch):
    target = tmp_path / "locked"
    target.mkdir()
    real_scandir = os.scandir

    def fake_scandir(path="."):
        if os.fspath(path) == str(target):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", fake_scandir)
    with pytest.raises(InputError) as raised:
        list(iter_records(target))
    assert str(raised.value) == f"{target}: cannot list directory (Permission denied)"


# --------------------------------------------------------------------------- manifest


def test_manifest_csv(tmp_path):
    path = write(
        tmp_path / "manifest.csv",
        "id,outlet,url,published,language,title,inferred,notes\n"
        "000_5bbc07b3f689fc76,Reuters,https://example.org/r,2023-09-13,en,,,stated in text\n"
        "002_f9eead5de3e89fd6,The New York Times,,13 Sep 2023,,,outlet,house style\n"
        "003_6154cfbf0fdc7a47,,,,,,,\n",
    )
    manifest = read_manifest(path)
    assert list(manifest) == [
        "000_5bbc07b3f689fc76",
        "002_f9eead5de3e89fd6",
        "003_6154cfbf0fdc7a47",
    ]
    assert manifest["000_5bbc07b3f689fc76"] == {
        "outlet": "Reuters",
        "url": "https://example.org/r",
        "published": "2023-09-13",
        "language": "en",
        "inferred_fields": [],
        "source_path": f"{path}:2",
    }
    assert manifest["002_f9eead5de3e89fd6"]["inferred_fields"] == ["outlet"]
    assert manifest["002_f9eead5de3e89fd6"]["published"] == "2023-09-13"
    assert manifest["003_6154cfbf0fdc7a47"] == {"inferred_fields": [], "source_path": f"{path}:4"}


def test_manifest_json_list_object_and_jsonl(tmp_path):
    listed = write(
        tmp_path / "m1.json",
        json.dumps(
            [
                {"id": "a", "outlet": "AFP", "published": "2023-09-13T10:15:00+09:00"},
                {
                    "id": "b",
                    "outlet": "Vygr Media",
                    "inferred": ["outlet", "published"],
                    "published": "2023-09-14",
                },
            ],
            indent=2,
        ),
    )
    keyed = write(
        tmp_path / "m2.json", json.dumps({"a": {"outlet": "AFP"}, "b": {"title": "T"}}, indent=2)
    )
    lines = write(tmp_path / "m3.jsonl", '{"id": "a", "outlet": "AFP"}\n\n{"id": "b"}\n')
    first = read_manifest(listed)
    assert first["a"]["published"] == "2023-09-13T10:15:00+09:00"
    assert first["b"]["inferred_fields"] == ["outlet", "published"]
    assert first["b"]["source_path"] == f"{listed}:7"
    assert read_manifest(keyed) == {
        "a": {"outlet": "AFP", "inferred_fields": [], "source_path": f"{keyed}:2"},
        "b": {"title": "T", "inferred_fields": [], "source_path": f"{keyed}:5"},
    }
    assert list(read_manifest(lines)) == ["a", "b"]
    assert read_manifest(lines)["b"]["source_path"] == f"{lines}:3"


def test_manifest_gives_an_outlets_other_names_and_domains(tmp_path):
    path = write(
        tmp_path / "manifest.csv",
        "id,outlet,outlet_names,outlet_domains\n"
        "a,nytimes,The New York Times; the Times |The New York Times,https://www.NYTimes.com/\n"
        "b,Dawn,,\n",
    )
    manifest = read_manifest(path)
    assert manifest["a"]["outlet_names"] == ["The New York Times", "the Times"]
    assert manifest["a"]["outlet_domains"] == ["nytimes.com"]
    assert "outlet_names" not in manifest["b"]
    listed = write(
        tmp_path / "m.json",
        json.dumps([{"id": "a", "outlet": "dawn", "outlet_names": ["Dawn", "ڈان"]}]),
    )
    assert read_manifest(listed)["a"]["outlet_names"] == ["Dawn", "ڈان"]
    bad = write(tmp_path / "bad.json", json.dumps([{"id": "a", "outlet_names": 3}]))
    with pytest.raises(InputError, match=":1: field 'outlet_names' must list names, got a number"):
        read_manifest(bad)


@pytest.mark.parametrize(
    "name, content, expected",
    [
        (
            "m.csv",
            "id,published\na,2023-09-13\nb,2023-02-30\n",
            ":3: bad date '2023-02-30': day is out of range for month",
        ),
        ("m.csv", "id,published\na,yesterday\n", ":2: bad date 'yesterday': not a recognised date"),
        ("m.csv", "id,outlet\na,X\na,Y\n", ":3: duplicate id 'a' (first at "),
        ("m.csv", "id,inferred\na,outlet;mood\n", ":2: unknown field 'mood' in 'inferred'"),
        ("m.csv", "outlet\nReuters\n", ":2: no id (one of id, article_id"),
        ("m.csv", 'id,outlet\na,"Reuters\n', ":2: malformed CSV record: unterminated quoted field"),
        (
            "m.json",
            '[\n  {"id": "a"},\n  {"id": "b", "published": "13/09/2023"}\n]',
            ":3: bad date '13/09/2023'",
        ),
        (
            "m.json",
            '[\n  {"id": "a"},\n  {"id": "b",, }\n]',
            ":3: invalid JSON (Expecting property name",
        ),
        ("m.json", '{"a": {"language": "English"}}', ":1: bad language 'English'"),
        ("m.json", "[1]", ":1: expected a JSON object, got a number"),
        ("m.json", '"x"', ":1: a JSON manifest must be a list of objects or an object keyed by id"),
        ("m.jsonl", '{"id": "a"}\n{"id": "b"\n', ":2: invalid JSON (Expecting ',' delimiter"),
    ],
)
def test_bad_manifest_stops_naming_file_and_line(tmp_path, name, content, expected):
    path = write(tmp_path / name, content)
    with pytest.raises(InputError) as raised:
        read_manifest(path)
    message = str(raised.value)
    assert message.startswith(str(path) + expected.split(" ", 1)[0]), message
    assert expected.split(" ", 1)[1] in message
    assert_one_line(message)


def test_manifest_missing_or_wrong_type(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_manifest(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="unsupported manifest type '.xlsx'"):
        read_manifest(write(tmp_path / "m.xlsx", b"PK"))


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "given, expected",
    [
        ("2023-09-13", "2023-09-13"),
        ("2023/9/3", "2023-09-03"),
        ("2023-09", "2023-09"),
        ("2023", "2023"),
        ("2023-09-13T08:00", "2023-09-13T08:00:00"),
        ("2023-09-13 08:00:05Z", "2023-09-13T08:00:05+00:00"),
        ("2023-09-13T08:00:00.250+0530", "2023-09-13T08:00:00.250000+05:30"),
        ("2023-09-13T08:00:00-04:00", "2023-09-13T08:00:00-04:00"),
        ("September 13, 2023", "2023-09-13"),
        ("Sept. 13, 2023", "2023-09-13"),
        ("Wednesday, September 13th, 2023", "2023-09-13"),
        ("13 Sep 2023", "2023-09-13"),
        ("13 September 2023 10:15 PM GMT", "2023-09-13T22:15:00+00:00"),
        ("Sep 13, 2023 at 9:05 a.m. UTC+3", "2023-09-13T09:05:00+03:00"),
        ("Wed, 13 Sep 2023 08:00:00 +0000", "2023-09-13T08:00:00+00:00"),
        ("September 2023", "2023-09"),
        ("  2023-09-13  ", "2023-09-13"),
    ],
)
def test_normalize_published(given, expected):
    assert normalize_published(given) == expected


@pytest.mark.parametrize(
    "given, reason",
    [
        ("13/09/2023", "day/month order is ambiguous"),
        ("2023-13-01", "month must be in 1..12"),
        ("2023-02-29", "day is out of range for month"),
        ("1694592000", "a bare number is not a date"),
        ("Smarch 13, 2023", "unknown month 'Smarch'"),
        ("soon", "not a recognised date"),
        ("2023-09-13T25:00", "hour must be in 0..23"),
    ],
)
def test_bad_dates_say_why(given, reason):
    with pytest.raises(ValueError) as raised:
        normalize_published(given)
    assert str(raised.value).startswith(f"bad date {given!r}: ")
    assert reason in str(raised.value)


def test_input_error_survives_pickling_for_worker_processes():
    import pickle

    error = pickle.loads(pickle.dumps(InputError("bad date 'x'", path="a.jsonl", line=3)))
    assert (str(error), error.path, error.line, error.reason) == (
        "a.jsonl:3: bad date 'x'",
        "a.jsonl",
        3,
        "bad date 'x'",
    )
    assert str(InputError("no location")) == "no location"
