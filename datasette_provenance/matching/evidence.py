"""Evidence in plain words: sentences a journalist can read, and publish.

Articles are named by their outlet ("Vygr Media's article", "the Reuters text") or, when
the outlet is not stated or both share it, by their title; never by an id, unless an
article has neither. Shares are said in words ("about a third"), counts with the right
plural. Raw scores stay in ``matches.scores`` (shown behind "All scores").

Pure functions over the facts ``lineage`` already holds (outlet, title, article id).
"""

from __future__ import annotations

from typing import Iterable, Mapping, Protocol

# Titles longer than this are shortened at a word boundary when they name an article.
TITLE_CHARS = 60

# What an evidence sentence is about (``matches.evidence`` is a JSON list of
# {"about": ..., "text": ...}): pages show reuse and credit for copies, the reuse of two
# siblings without their direction and credit, and only the shared-text sentence for
# pairs that are not derived.
REUSE, DIRECTION, CREDIT, SHARED, PARENT = "reuse", "direction", "credit", "shared", "parent"


def item(about: str, text: str) -> dict[str, str]:
    return {"about": about, "text": text}


def texts(items, about: Iterable[str] | None = None) -> list[str]:
    """The sentences of stored evidence (optionally only some topics); plain strings, as
    stored by earlier releases, count as any topic."""
    wanted = None if about is None else set(about)
    found = []
    for entry in items or ():
        if isinstance(entry, dict):
            if wanted is None or entry.get("about") in wanted:
                found.append(str(entry.get("text", "")))
        elif entry is not None:
            found.append(str(entry))
    return found


class Named(Protocol):
    """What naming an article needs (``lineage.ArticleFacts`` and ``SegmentNode`` have it)."""

    article_id: str
    outlet: str | None
    title: str | None


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 sentence", "10 sentences", "1,200 words"."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def percent(share: float) -> str:
    return f"{round(100 * share)}%"


# Fractions said in words, checked nearest first; "about" unless the share is on the dot.
_FRACTIONS = (
    (3 / 4, "three quarters"),
    (2 / 3, "two thirds"),
    (1 / 2, "half"),
    (1 / 3, "a third"),
    (1 / 4, "a quarter"),
    (1 / 5, "a fifth"),
    (1 / 10, "a tenth"),
)


def share_words(share: float) -> str:
    """A share of a text in words: "all", "nearly all", "most", "about a third" ..."""
    if share >= 0.98:
        return "all"
    if share >= 0.9:
        return "nearly all"
    if share >= 0.8:
        return f"most ({percent(share)})"
    if share < 0.08:
        return f"a small part ({percent(share)})"
    value, words = min(_FRACTIONS, key=lambda fraction: abs(fraction[0] - share))
    return words if abs(value - share) < 0.005 else f"about {words}"


def short_title(title: str | None) -> str | None:
    if not title:
        return None
    title = " ".join(title.split())
    if len(title) <= TITLE_CHARS:
        return title
    cut = title[:TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:-–—") + "…"


def possessive(name: str) -> str:
    return name + ("’" if name.endswith("s") else "’s")


class Names:
    """How to name the articles of one sentence or pair: by outlet where that tells them
    apart, else by title, else by the opening words of the text; an id only as a last resort."""

    def __init__(self, *articles: Named, inferred: Iterable[str] = ()):
        self.inferred = set(inferred)  # article ids whose outlet is only a guess
        outlets = [self._outlet(article) for article in articles]
        self.shared_outlets = {o for o in outlets if o and outlets.count(o) > 1}
        titles = [short_title(article.title) for article in articles]
        self.shared_titles = {t for t in titles if t and titles.count(t) > 1}

    def _outlet(self, article: Named) -> str | None:
        if article.article_id in self.inferred:
            return None
        return article.outlet or None

    def _usable_outlet(self, article: Named) -> str | None:
        outlet = self._outlet(article)
        return outlet if outlet not in self.shared_outlets else None

    def _title(self, article: Named) -> str | None:
        title = short_title(article.title)
        if title and title in self.shared_titles:
            outlet = self._outlet(article)
            return f"{title}” ({outlet})" if outlet else None
        return f"{title}”" if title else None

    def article(self, article: Named) -> str:
        """ "Vygr Media's article", "“Putin and Kim …”", or "article 003_…"."""
        return self._name(article, lambda outlet: f"{possessive(outlet)} article", str)

    def text(self, article: Named, noun: str = "text") -> str:
        """ "the Reuters text", "the text of “…”"."""
        return self._name(
            article, lambda outlet: f"the {outlet} {noun}", lambda name: f"the {noun} of {name}"
        )

    def _name(self, article: Named, by_outlet, by_name) -> str:
        outlet = self._usable_outlet(article)
        if outlet:
            return by_outlet(outlet)
        title = self._title(article)
        if title:
            return by_name(f"“{title}")
        opening = short_title(getattr(article, "opening", None))
        if opening:
            return by_name(f"the article beginning “{opening}”")
        return by_name(f"article {article.article_id}")

    def outlet(self, article: Named) -> str:
        """The outlet as a noun, or the article when the outlet is not known."""
        return self._outlet(article) or self.article(article)


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


# ------------------------------------------------------------------------------
# How much was reused


def reuse(
    label: str, scores: Mapping, source: Named, derived: Named, names: Names,
    edits: Iterable[tuple[str, str]] = (),
) -> str:
    """What a derived text took from its source, for a verbatim / light_edit / paraphrase pair."""
    share = share_words(float(scores.get("source_containment", 0.0)))
    copier, original = names.article(derived), names.text(source)
    if label == "verbatim":
        said = f"{copier} copies {share} of {original} word for word"
        changes = _telling_edits(edits)
        count = int(scores.get("edit_count", len(changes)) or 0)
        if count:
            examples = ", ".join(f"{old or '∅'} → {new or '∅'}" for old, new in changes[:3])
            said += f", with {plural(count, 'small edit')}"
            said += f" ({examples})" if examples else ""
    elif label == "light_edit":
        kept = float(scores.get("derived_fidelity", 0.0))
        said = (
            f"{copier} reuses {share} of {original} with light edits: "
            f"{percent(kept)} of the reused words are unchanged"
        )
    else:
        linked = int(scores.get("linked_sentences", 0) or 0)
        said = f"{copier} reuses {share} of {original}, reworded"
        if linked:
            said += (
                f"; {plural(linked, 'of its sentences', 'of its sentences')} "
                f"{'follows' if linked == 1 else 'follow'} {names.text(source, 'sentences')} in order"
            )
    return sentence(said)


def _telling_edits(edits: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Edits worth quoting: word changes first ("metre → meter", "U.S. → US"), then the
    rest; capitals and punctuation alone are left out."""
    seen, words = set(), []
    for old, new in edits:
        old, new = " ".join(str(old).split()), " ".join(str(new).split())
        bare_old, bare_new = (_strip_punctuation(old).casefold(), _strip_punctuation(new).casefold())
        if (old, new) in seen or bare_old == bare_new:  # ", and" -> "and", "president" -> "President"
            continue
        seen.add((old, new))
        words.append((old, new))
    return sorted(words, key=lambda edit: not (edit[0] and edit[1]))  # word changes first


def _strip_punctuation(text: str) -> str:
    """Without punctuation around the words (inside them stays: "U.S" is not "US")."""
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return text[start:end]


def own_material(scores: Mapping, source: Named, derived: Named, names: Names) -> str | None:
    """Said when most of the copy is its own text (a copied core inside new material)."""
    found = float(scores.get("derived_containment", 0.0))
    if found >= 0.5:
        return None
    return sentence(
        f"{share_words(1 - found)} of {names.article(derived)} is its own text, not found in "
        f"{names.text(source)}"
    )


def not_derived(label: str, scores: Mapping, first: Named, second: Named, names: Names) -> str:
    """Why a pair that shares a story is not a copy (no direction is implied)."""
    quotes = int(scores.get("passages_quotation", 0) or 0)
    if label == "shared_quotes" and quotes:
        return sentence(
            f"{names.article(first)} and {names.article(second)} quote the same words "
            f"({plural(quotes, 'quotation')}); apart from quotations they share little text: "
            "separate reporting of the same story"
        )
    return sentence(
        f"{names.article(first)} and {names.article(second)} cover the same story but share no "
        "text beyond names and common phrases"
    )


def siblings(first: Named, second: Named, shared: Named, names: Names) -> str:
    return sentence(
        f"both copy {names.article(shared)}; neither took text only the other has"
    )


# ------------------------------------------------------------------------------
# Which came first


def dated(earlier: Named, later: Named, earlier_date: str, later_date: str, names: Names,
          guessed: bool = False) -> str:
    said = (
        f"{names.article(earlier)} is dated earlier ({_date(earlier_date)}) than "
        f"{names.article(later)} ({_date(later_date)})"
    )
    return sentence(said + (" (one of the dates is only inferred)" if guessed else ""))


def credits_other(copier: Named, credited: Named, quote: str, names: Names,
                  photo_only: bool = False) -> str:
    who = names.outlet(credited)
    if photo_only:
        return sentence(
            f"{names.article(copier)} uses a photo from {who}, so it probably came later "
            "(weak evidence: the photo, not the text, is credited)"
        )
    return sentence(f"{names.article(copier)} credits {who} (“{quote}”)")


def wire_original(article: Named, agency: str, marker: str, names: Names) -> str:
    return sentence(
        f"{names.text(article, 'article')} is {possessive(agency)} own: it is published by "
        f"{agency} and carries its wire marker (“{marker}”)"
    )


def wire_marker(article: Named, agencies: Iterable[str], other: Named, names: Names) -> str:
    listed = " and ".join(sorted(agencies))
    return sentence(
        f"{names.article(article)} carries a {listed} wire marker that {names.article(other)} "
        "lacks, and nothing else tells which came first"
    )


def excerpt(excerpt_article: Named, whole: Named, share: float, other_share: float,
            names: Names) -> str:
    return sentence(
        f"{share_words(share)} of {names.article(excerpt_article)} is found in "
        f"{names.text(whole)}, but only {share_words(other_share)} of {names.text(whole)} in it: "
        f"{names.article(excerpt_article)} reads like the shortened version"
    )


def bundled(article: Named, extra_words: int, names: Names) -> str:
    return sentence(
        f"{names.article(article)} adds {plural(extra_words, 'word')} of other stories around "
        "the shared text"
    )


def no_direction_evidence() -> str:
    return "Nothing in the texts or their dates tells which came first: the order shown is a guess."


def _date(value: str) -> str:
    return value[:16].replace("T", " ")


# ------------------------------------------------------------------------------
# Credit


def credit(state: str | None, copier: Named, source: Named, names: Names,
           source_name: str | None, quote: str | None, kind: str | None,
           others: Iterable[tuple[str, bool]] = ()) -> str:
    """Whether the copy credits where its text comes from."""
    who = source_name or names.outlet(source)
    copy_name = names.article(copier)
    if state is None:
        return sentence(
            f"the outlet of {names.article(source)} is not known, so whether "
            f"{copy_name} credits it cannot be checked"
        )
    if state == "credited":
        how = {"attribution": "names", "wire_marker": "carries the wire marker of"}.get(
            kind or "", "credits"
        )
        return sentence(f"{copy_name} {how} {who} (“{quote}”)" if quote else f"{copy_name} credits {who}")
    if state == "photo_only":
        return sentence(
            f"{copy_name} credits {who} only for the photo (“{quote}”), not for the text"
        )
    said = f"{copy_name} does not credit {who}"
    for_text = [name for name, photo in others if not photo]
    for_photos = [name for name, photo in others if photo]
    if for_text and for_photos:
        said += f"; it credits {_and(for_text)}, and {_and(for_photos)} for photos"
    elif for_text:
        said += f"; it credits {_and(for_text)}"
    elif for_photos:
        said += f"; it credits {_and(for_photos)}, for photos only"
    return sentence(said)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ------------------------------------------------------------------------------
# A pasted text (the check page)

QUOTATION = "quotation"  # a check result sharing only a quotation (with its attribution)
PHRASE = "phrase"  # a short pasted phrase found whole, word for word (align.phrase_found)
STATEMENT = "statement"  # like QUOTATION, the words attributed without quotation marks


def check_kind(
    label: str, passage_kinds: Iterable[str], pasted_found: float, in_quotation_marks: bool = True
) -> str:
    """How a pasted text relates to a corpus article: its label, or ``quotation`` when all
    it shares is quoted words (a quote pasted with its "Kim said" is not a paraphrase);
    ``statement`` for either when none of the shared quotations is in quotation marks in
    the article (words it attributes to someone: "the ministry said ...")."""
    kinds = set(passage_kinds)
    kind = label
    if "quotation" in kinds and not kinds & {"verbatim", "edited"} and pasted_found < 0.2:
        kind = QUOTATION
    if kind in (QUOTATION, "shared_quotes") and not in_quotation_marks:
        return STATEMENT
    return kind


def check_sentence(kind: str, scores: Mapping) -> str:
    """What a pasted text shares with one article, in words."""
    found = float(scores.get("derived_containment", 0.0))  # share of the paste in the article
    statements = int(scores.get("passages_statement", 0) or 0)
    if kind == STATEMENT:
        counted = plural(statements or 1, "statement")
        return sentence(
            f"your text reports the same statement as this article ({counted}, words it "
            "attributes to someone without quotation marks); reporting what someone said is "
            "not copying"
        )
    if kind == QUOTATION or kind == "shared_quotes":
        quotes = int(scores.get("passages_quotation", 0) or 0) or 1
        counted = plural(quotes, "quotation")
        if statements:
            counted += f" and {plural(statements, 'attributed statement')}"
        return sentence(
            f"your text quotes the same words as this article ({counted}); "
            "quoting the same speaker is not copying"
        )
    if kind == PHRASE:
        return sentence(
            "all of your text is in this article word for word; a phrase this short can be "
            "common wording, so this shows where it appears, not who wrote it first"
        )
    if kind == "verbatim":
        return sentence(f"{share_words(found)} of your text is in this article word for word")
    if kind == "light_edit":
        return sentence(f"{share_words(found)} of your text is in this article, lightly edited")
    linked = int(scores.get("linked_sentences", 0) or 0)
    said = f"your text follows this article, reworded: {share_words(found)} of it"
    if linked:
        said += f"; {plural(linked, 'sentence')} in the same order"
    return sentence(said)
