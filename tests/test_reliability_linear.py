"""Cleaning takes time in proportion to the text, whatever the text.

Every pattern and loop of cleaning runs on untrusted text: articles, pasted text on the
check page, arguments of ``provenance_clean()`` in SQL. A backtracking regex or a loop
over a whole line per agency name makes a short crafted input cost minutes. Here each
crafted article family is cleaned in a child process (with a hard timeout, so a
regression fails instead of hanging) and compared with what the same machine spends on
a normal article of the same size, measured in the same run:

* no crafted article costs more than CRAFTED_MAX_RATIO times a normal one;
* doubling a crafted article at most doubles its cost (LINEAR_MAX_GROWTH): a quadratic
  family quadruples, an exponential one never returns.

The three texts are cleaned in turn, several rounds, the least CPU time of each kept, and
a family that misses a bound is measured again (MEASUREMENTS times in all) before it
fails: on a shared machine one measurement can be slowed; a quadratic is slow every time.

The families reproduce the cases found (a share-button line of "x x … !", lines of dates,
a sign-off followed by spaces, one line of thousands of agency names or markers ...).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings

import pytest

from datasette_provenance.cleaning import clean_article, datelines

from .conftest import load_benchmark

SIZE = 60_000
# Texts made only of credit lines ("Photo 1 (Reuters)" ...) cost 10-20 times prose: every
# line is a credit, prose lines skip most checks (60,000 characters of captions: 62-75 ms,
# of prose 3.1 ms since the faster agency scan, 6.2 ms before it). Before the fixes: 1,000
# to infinity. The ratio's reference is prose, so making prose cheaper raises it; doubling
# (LINEAR_MAX_GROWTH) is what tells a quadratic family.
CRAFTED_MAX_RATIO = 40
LINEAR_MAX_GROWTH = 3.0  # a quadratic family gives 4; a busy machine's noise up to 2.5
ROUNDS = 5
MEASUREMENTS = 3
CHILD_TIMEOUT_SECONDS = 60


def lines_of(unit: str, size: int) -> str:
    return (unit + "\n") * (size // (len(unit) + 1))


CRAFTED = {
    "share buttons": lambda n: lines_of("x " * 20 + "!", n),
    "dates and times": lambda n: lines_of(("1.1.2023,1.11am," * 7)[:110], n),
    "sign-off then spaces": lambda n: "x — Reuters" + " " * (n - 12) + "x",
    "agency names, one line": lambda n: "Reuters " * (n // 8),
    "dash markers, one line": lambda n: "x — Reuters " * (n // 12),
    "wire markers, one line": lambda n: "(Reuters) " * (n // 10),
    "slash markers, one line": lambda n: "/Reuters/ " * (n // 10),
    "with credits, one line": lambda n: "x. With " + "Reuters/" * (n // 8),
    "with credit twice": lambda n: lines_of("x. With Reuters Reuters", n),
    "agency list in a parenthesis": lambda n: "(" + "Reuters/" * (n // 8),
    "dash then spaces": lambda n: "x — " + " " * (n - 14) + "Reuters x",
    "marker lines with spaces": lambda n: lines_of("— Reuters" + " " * 100 + "x", n),
    "parenthesis with spaces": lambda n: lines_of("x (Reuters" + " " * 180 + "x) y", n),
    "powered by, spaces": lambda n: lines_of("Powered by x" + " " * 250 + "y", n),
    "copyright, spaces": lambda n: lines_of("© " + " " * 250 + "x", n),
    "Chinese agency, one line": lambda n: "新华社" * (n // 3),
    "Chinese wire openings": lambda n: lines_of("新华社" + "北" * 20, n),
    "wire datelines": lambda n: lines_of("(" * 80 + "(Reuters) -", n),
    "photo captions with credits": lambda n: "".join(
        f"Photo {i} of the day (Reuters)\n" for i in range(n // 30)
    ),
    "reporting credits": lambda n: "Reuters\n"
    + "".join(f"(Reporting by Alice {i})\nbody text {i}.\n" for i in range(n // 40)),
    "many stories": lambda n: "".join(
        f"Title number {i}\nBy Alice Smith\n" + "word " * 60 + ".\n(Reuters)\n"
        for i in range(n // 380)
    ),
}

_CHILD = """
import json, sys, time
from datasette_provenance.cleaning import clean_article
texts, rounds = json.load(sys.stdin)
best = [float("inf")] * len(texts)
for _ in range(rounds):
    for number, text in enumerate(texts):
        started = time.process_time()
        clean_article(text)
        best[number] = min(best[number], time.process_time() - started)
print(json.dumps(best))
"""


def cleaning_costs(texts: list[str], rounds: int = ROUNDS) -> list[float]:
    """CPU seconds to clean each text (the least of ``rounds``), in a child process."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD],
            input=json.dumps([texts, rounds]),
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_SECONDS,
            check=True,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"cleaning did not finish within {CHILD_TIMEOUT_SECONDS} s")
    return json.loads(done.stdout)


def normal_article(size: int) -> str:
    synthetic = load_benchmark("synthetic")
    text = ""
    for article, _ in synthetic.generate(200):
        text += article.text + "\n\n"
        if len(text) >= size:
            return text[:size]
    return text


@pytest.mark.slow
@pytest.mark.parametrize("family", CRAFTED)
def test_a_crafted_article_costs_a_few_times_a_normal_one(family):
    make = CRAFTED[family]
    texts = [normal_article(SIZE), make(SIZE), make(2 * SIZE)]
    for _ in range(MEASUREMENTS):
        normal, single, double = cleaning_costs(texts)
        floor = 0.01  # below this, timer noise decides the ratio
        problems = []
        if single > CRAFTED_MAX_RATIO * normal:
            problems.append(f"{single:.3f} s vs {normal:.4f} s for a normal article")
        if double > LINEAR_MAX_GROWTH * max(single, floor):
            problems.append(f"{single:.3f} s for {SIZE:,} characters, {double:.3f} s for twice")
        if not problems:
            return
    pytest.fail(f"{family}: {'; '.join(problems)}")


def test_a_with_credit_followed_by_another_name_is_no_crash():
    """Found by the crafted corpus: "x. With Reuters Reuters" raised AttributeError (the
    sign-off check returned no match), which broke ingest, the check page and SQL."""
    cleaned = clean_article("x. With Reuters Reuters")
    assert "Reuters" in cleaned.clean_text


def test_every_pattern_passes_the_redos_analyser():
    """regexploit over every compiled pattern of the package: none may backtrack
    cubically or worse (on a line of the length it runs on)."""
    pytest.importorskip("regexploit")
    from regexploit.ast.sre import SreOpParser
    from regexploit.redos import find

    from .redos_scan import package_patterns

    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, pattern in package_patterns():
            parsed = SreOpParser().parse_sre(pattern.pattern, pattern.flags)
            worst = max((redos.starriness for redos in find(parsed)), default=0)
            if worst >= 3 and name not in REDOS_REVIEWED:
                found.append(f"{name}: starriness {worst}")
    assert not found, found


# Patterns regexploit flags that cannot backtrack as it assumes, and why.
REDOS_REVIEWED = {
    # Runs on copyright lines of at most COPYRIGHT_LINE_MAX_CHARS; its tail always matches
    # ("$" is an alternative), so the cubic failure path regexploit builds never occurs.
    "datasette_provenance.cleaning.boilerplate._COPYRIGHT_HOLDER",
}


# Pieces of date lines in the forms datelines.DATE_LINE knows, and characters that end or break them.
DATE_PIECES = [
    "september 13, 2023", "13 september 2023", "13.09.2023", "2023-09-13", "1.1.2023",
    "10:15", "1.11am", "10.15 a.m.", "gmt", "(utc+3)", "+03:00", "updated", "published on:",
    "wednesday,", "at", "|", "•", ",", ";", "/", " ", "  ", "-", "—", "de", "г.", "2023年9月13日",
    "x", "!", "١٣", "\u00a0", "\u3000",
]  # fmt: skip


def test_the_date_line_pattern_means_the_same_on_re2_as_on_re():
    """RE2 decides exactly the lines Python's re would (\\s and \\d spelled as Unicode)."""
    import random

    reference = re.compile(datelines.DATE_LINE_PATTERN)
    rng = random.Random(19)
    lines = ["september 13, 2023", "updated 13.09.2023 10:15 gmt", "x"]
    for _ in range(4000):
        lines.append("".join(rng.choice(DATE_PIECES) for _ in range(rng.randint(1, 6))))
    differ = [
        line for line in lines
        if bool(reference.fullmatch(line)) != bool(datelines.DATE_LINE.fullmatch(line))
    ]  # fmt: skip
    assert not differ, differ[:5]
    assert sum(bool(datelines.DATE_LINE.fullmatch(line)) for line in lines) > 100
