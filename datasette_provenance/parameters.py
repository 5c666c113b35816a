"""Tunable parameters, in one place, and the check that a database was built with them.

Five groups, by what a change costs:

* ``SignatureParams`` decide what is stored in ``signatures`` and the LSH index
  (shingles, permutations, bands, windows, story signatures): changing one means
  re-signing every segment (``datasette-provenance match DB --rebuild-index``);
* ``CandidateSettings`` decide which indexed segments are compared (bucket reads,
  Jaccard floors for text and story candidates, how many are aligned);
* ``LabelThresholds`` decide how a compared pair is labelled, and whether two
  texts report the same story;
* ``LineageSettings`` decide which version each copy hangs under in its story's
  lineage (rebuilt from the matches: changing them needs no re-matching);
* ``DerivationModel`` holds the fitted weights of the derivation probability that
  labels are cut from.

Story settings sit with what they decide: story signatures in ``SignatureParams``,
story-only candidates in ``CandidateSettings``, the same-story test in
``LabelThresholds``.

A database records each group in ``provenance_meta`` on first use (keys
``signature_params``, ``candidate_settings``, ``label_thresholds``,
``derivation_model``). Matching refuses
a database whose matches were made under other values, saying which differ and how
to recompute them (``check_matching_settings``; the signature params are checked by
``matching.index.check_params``), so old and new judgements are never mixed.
Constants that only make the code fast or bounded stay next to the code they govern.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Mapping

from .store import database_name, get_meta, set_meta

SCHEME = "affine32"

# Bands of one kind: an lsh_index bucket keeps the band number in 9 bits (index.py).
MAX_BANDS = 512

# Version of the word rules of matching/tokens.py (what a token is, how it is
# normalised). Tokens are what signatures are made of, so a database signed under other
# rules must be re-signed (SignatureParams.tokenizer). 1: a word ended at any non-Latin
# combining mark; 2: combining marks of every script and zero-width joiners continue a
# word; Arabic-script letter variants, tatweel and digits of every script are folded; a
# number glued to an Arabic-script word is two words.
TOKENIZER_VERSION = 2


class ParamsError(ValueError):
    """Signature parameters that cannot work together."""


@dataclass(frozen=True)
class SignatureParams:
    """Everything that decides what is stored in ``signatures`` and ``lsh_bands``.

    A database remembers the params it was built with (``provenance_meta`` key
    ``signature_params``); changing any field means rebuilding the index.
    What is done with the index (``CandidateSettings``) and with the alignments
    (``LabelThresholds``) can change without a rebuild: every match is then made
    again (``match DB --full``).
    """

    # Word n-grams. Five words rarely repeat by chance between unrelated news
    # texts, yet one changed word only costs the five shingles around it.
    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    scheme: str = SCHEME
    # LSH of text windows: P(candidate) = 1 - (1 - J**rows)**bands per window pair.
    # Two aligned windows sharing half their shingles (containment 0.5) have
    # J = 0.5 / 1.5 = 0.33; 32 bands of 3 rows put the S-curve's midpoint there
    # (P = 0.69 for one window pair; longer copies give several pairs) and give
    # P = 0.98 at J = 0.5. Windows sharing a stock phrase (J ~ 0.01) collide with
    # P ~ 3e-5, and CandidateSettings.text_min_jaccard drops those that do.
    text_bands: int = 32
    text_rows: int = 3
    # Windows of 100 shingles every 50: a passage of 150+ words holds a whole
    # window, and any 100-word passage overlaps one by at least 75 words.
    window_size: int = 100
    window_step: int = 50
    # Story words get looser LSH (rows of 2), because rewrites of one story share
    # only 15-35% of their content words: P = 0.90 at J = 0.19, 0.99 at J = 0.27.
    # index.candidates then checks the estimated story Jaccard (story_min_jaccard).
    story_bands: int = 64
    story_rows: int = 2
    # Content words have at least this many characters (see signatures.story_hashes) ...
    story_min_chars: int = 4
    # ... and count once per occurrence, up to this many times (multiset Jaccard).
    story_max_repeats: int = 5
    # Segments with fewer content words than this get no story bands: with a
    # handful of words, every brief on a topic would look like every other.
    story_min_words: int = 8
    # Story bands are keyed by publication window: the days since year 1 divided by this.
    # A lookup reads its own window and both neighbours, so story candidates no longer
    # grow with the years an archive spans: reports of one story are published within
    # weeks, chance collisions of two common words come from every year stored. A month
    # (the reach of passim's documented reprint filter) rather than a week: archive dates
    # are often the day a page was collected or updated, not published (COUNTER dates a
    # newspaper's same-week rewrite of an agency story 16 days after it). Undated
    # segments share window 0, which every lookup reads, and read every window
    # themselves: a missing date costs time, not matches (passim's date filters drop
    # undated documents). 0: one window for all time.
    story_window_days: int = 30
    # Winnowing fingerprints of the word shingles (Schleimer, Wilkerson & Aiken 2003): the
    # smallest shingle hash of every run of this many, so any passage of window + shingle
    # size - 1 words (24) shares a fingerprint with its source, and one of 44 words two.
    # A short copy inside a long text shares no LSH band with it (its windows are mostly
    # other text); its fingerprints find it. About one fingerprint per ten words.
    fingerprint_window: int = 20
    # The word rules that signed the database (TOKENIZER_VERSION when it was signed).
    tokenizer: int = TOKENIZER_VERSION

    def __post_init__(self) -> None:
        problems = []
        if self.tokenizer != TOKENIZER_VERSION:
            problems.append(
                f"signed with word rules version {self.tokenizer}; this release reads words "
                f"by version {TOKENIZER_VERSION}"
            )
        if self.scheme != SCHEME:
            problems.append(f"scheme must be {SCHEME!r}")
        if not 1 <= self.shingle_size <= 8:
            problems.append("shingle_size must be between 1 and 8")
        for kind in ("text", "story"):
            bands, rows = getattr(self, f"{kind}_bands"), getattr(self, f"{kind}_rows")
            if bands < 1 or not 1 <= rows <= 8 or bands * rows > self.num_perm:
                problems.append(f"{kind}_bands x {kind}_rows must not exceed num_perm (rows 1-8)")
            if bands > MAX_BANDS:  # the band number has 9 bits of an lsh_index bucket
                problems.append(f"{kind}_bands must be at most {MAX_BANDS}")
        if (
            self.window_step < 1
            or self.window_size < self.window_step
            or self.window_size % self.window_step
        ):
            problems.append("window_size must be a positive multiple of window_step")
        if self.text_bands >= MAX_BANDS:  # the last band number holds fingerprints
            problems.append(f"text_bands must be below {MAX_BANDS}")
        if self.story_window_days < 0:
            problems.append("story_window_days must be 0 (no windows) or positive")
        if self.fingerprint_window < 1:
            problems.append("fingerprint_window must be positive")
        if min(self.story_min_chars, self.story_max_repeats, self.story_min_words) < 1:
            problems.append(
                "story_min_chars, story_max_repeats and story_min_words must be positive"
            )
        if problems:
            raise ParamsError("invalid signature params: " + "; ".join(problems))

    def as_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict) -> "SignatureParams":
        values = {**SIGNED_BEFORE_THE_FIELD, **values}
        unknown = sorted(set(values) - {field.name for field in fields(cls)})
        if unknown:
            raise ParamsError(f"unknown signature params: {', '.join(unknown)}")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> "SignatureParams":
        return cls.from_dict(json.loads(text))


DEFAULT_PARAMS = SignatureParams()
# What a database signed before a field existed was signed with: the first word rules, and
# story bands in one window for all time. (Such a database still matches as it was signed.)
SIGNED_BEFORE_THE_FIELD = {"tokenizer": 1, "story_window_days": 0}



# ------------------------------------------------------------------------------ candidates


@dataclass(frozen=True)
class CandidateSettings:
    """Which indexed segments are compared with a segment, and how many are aligned."""

    # At most this many members of one LSH bucket are read per lookup. A band of
    # three or more equal minima is rare by chance, so a bucket this big holds text
    # that hundreds of segments carry verbatim: left-over boilerplate (a standard
    # disclaimer, a newsletter pitch) or a wire story syndicated by hundreds of
    # outlets - or, for story bands, a pair of very common content words. Reading it
    # whole would make every lookup as slow as the most copied text in the archive;
    # skipping it would lose the syndicated story altogether. So a fixed part is
    # read (the first members in segment id order): the same part for every band of
    # a copied window, so those members collect hits from all its bands and are
    # still found and verified.
    max_bucket_read: int = 200
    # Candidates whose signatures are loaded and scored, most band hits first. Each
    # costs ~1 KB per window to read; past a few hundred, the rest are near-copies of
    # ones already scored or weak story-only hits, and alignment could not afford
    # them anyway.
    max_scored_candidates: int = 300
    # A text band hit needs this best window Jaccard: a chance collision of three
    # minima between windows that share a stock phrase or two (J ~ 0.01) estimates
    # at ~0.03-0.06, while pairs with containment >= 0.5 score >= 0.15 (1st
    # percentile 0.26 in benchmarks/lsh_recall.py).
    text_min_jaccard: float = 0.1
    # A candidate without a good text hit needs this estimated Jaccard of story
    # words. Calibrated on the seeds: the summit story's rewrites estimate at
    # 0.16-0.31 with each other, the unrelated Canada story at 0.02-0.05 (exact
    # Jaccard 0.06-0.07). The estimate's standard deviation with 128 permutations is
    # ~0.035 at J = 0.19 and ~0.022 at J = 0.07, so 0.12 is two of them from both.
    story_min_jaccard: float = 0.12
    # A segment is aligned with at most this many candidates, best index evidence first:
    # a story syndicated by hundreds of outlets still finds its closest versions, and
    # one segment never costs more than about a second of alignment.
    max_aligned_candidates: int = 100
    # A candidate sharing this many fingerprints (SignatureParams.fingerprint_window) with
    # a segment shares a passage of 44 words or more, or two shorter ones: a short copy,
    # even where its windows share no band.
    min_fingerprint_hits: int = 2
    # A fingerprint found in more segments than this is a stock phrase or boilerplate
    # ("said in a statement on"), not the trace of one copy: its bucket is not read.
    max_fingerprint_members: int = 50
    # Of those, candidates sharing only story words (no text band): at most this many,
    # most story words in common first. A paraphrase shares the most story words with
    # its source; beyond a few dozen, story-only candidates are same-genre news.
    max_story_only_candidates: int = 30
    # A syndication storm: a segment with more candidates sharing text than this is one
    # copy of a story republished by many outlets (news clusters of a few dozen versions
    # are common; past that it is syndication). It is aligned with the earliest-published
    # few of them - the wire original is the earliest - and its closest few, not with every
    # other copy: aligning each of N copies with all others costs N^2 alignments, and the
    # lineage needs only each copy's source. (The evaluation sets never reach it.)
    storm_min_copies: int = 30
    storm_earliest: int = 3
    storm_closest: int = 3

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_CANDIDATES = CandidateSettings()


# ------------------------------------------------------------------------------ labels


@dataclass(frozen=True)
class LabelThresholds:
    """Every threshold a label is decided from, with the reasoning for its value.

    Whether a pair is derived is one calibrated probability (``DerivationModel``);
    these thresholds cut it, name the kind of reuse, and say when two texts report
    the same story. A database records the thresholds its matches were labelled with.
    """

    # A pair is derived when its probability of derivation reaches this: a verdict is
    # an accusation, so it needs evidence that makes derivation more likely than not.
    min_derivation_probability: float = 0.5
    # Verbatim: copied passages carry at most this many edits per 100 copied
    # words - one every twenty-odd words is house-style and typo fixing
    # ("U.S." -> "US", "metre" -> "meter"), not rewriting.
    verbatim_max_edits_per_100: float = 4.5
    # Light edit: of the text that was reused, at least this share kept word for
    # word; below it, most of the wording is new and the reuse is a paraphrase.
    light_edit_min_fidelity: float = 0.6
    # Same story: corpus-wide content-word similarity (matching/stories.py) from which
    # two reports are linked as covering one story. Reports of one event score
    # 0.14-0.6 with each other (NewsWCL: five US outlets on each of five events; the
    # seeds' translated French report 0.27-0.30 with the Reuters story and its
    # rewrites), an unrelated story 0.08.
    same_story_similarity: float = 0.15
    # Matching keeps a pair it did not store as a match as a story candidate from this
    # similarity, measured with the corpus's word rarity as it stood then; every lineage
    # rebuild measures the candidates again with the rarity as it stands and links those
    # from ``same_story_similarity``, so stories do not depend on the order articles
    # arrived in. Rarity moves a pair's similarity by a few hundredths as a corpus grows
    # (up to 0.027 between half of a 400-article synthetic corpus and all of it):
    # 0.05 below the link threshold leaves a margin, and keeps to pairs worth measuring.
    story_candidate_similarity: float = 0.10
    # Stories merge while the average link between them reaches this (a pair never
    # compared counting zero). Average linkage keeps apart events on one subject that
    # single links would chain: on NewsWCL the two Korea events (Pompeo meets Kim; the
    # North suspends its tests) stay apart, and each of the five events is one story,
    # from 0.14 to 0.22; 0.18 sits in the middle.
    story_linkage: float = 0.18
    # A derivation makes one story of a copy and its source when the source makes up
    # at least this share of the copy (``closeness``); a borrowed background paragraph
    # is only a link, weighing its share.
    story_copy_closeness: float = 0.5

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> "LabelThresholds":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


DEFAULT_THRESHOLDS = LabelThresholds()


# ------------------------------------------------------------------------------ lineage


@dataclass(frozen=True)
class LineageSettings:
    """How each copy's parent is chosen among the versions of its story.

    The lineage is rebuilt from the stored matches whenever they change, so changing
    these needs no re-matching; a database records the ones its lineage was built with
    (``provenance_meta`` key ``lineage_settings``).
    """

    # A copy is hung under a later version of its story, rather than under the earlier
    # version that later one comes from, only when it carries the later version's own
    # text (its rewording, its edits, what it added): at least this many words more than
    # it carries of the earlier version's text that the later one lacks - about two
    # sentences, which nobody writes by chance (the reasoning of min_copied_tokens) ...
    min_own_text_words: int = 40
    # ... and at least this many times as much. Two siblings each take their own share
    # of the original, so both sides of the comparison are large for them; a true copy
    # of a copy lacks what its parent lacks, so one side is near zero. (On the synthetic
    # corpus's 1,492 copy/sibling pairs sharing a wire, 40 and 2 hang 3 copies under a
    # sibling, against 10 for the closeness alone.)
    own_text_ratio: float = 2.0

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_LINEAGE = LineageSettings()


# ------------------------------------------------------------------------------ derivation


@dataclass(frozen=True)
class DerivationModel:
    """The calibrated probability that one text derives from another (matching/derivation.py).

    A logistic regression: one weight per kind of evidence, and an intercept. Fitted
    with ``datasette-provenance evaluate --all ../shared/eval --fit`` (each set weighing
    the same, so the 50-pair NewsWCL counts as much as the 570-pair PAN) on four
    labelled corpora: Clough-Stevenson (95 short answers copied or rewritten from
    Wikipedia, or written independently), COUNTER (300 Urdu agency/newspaper pairs),
    NewsWCL (50 pairs of independent US reports of one event) and PAN 2013 (570 long
    documents, half holding a copied passage). Leave-one-set-out figures are in the
    README's Accuracy section. Nothing is trained at install or run time.
    """

    derived_phrase_overlap: float = 9.32
    source_phrase_overlap: float = 3.64
    copied_words: float = 3.88
    sentence_alignment: float = 4.03
    intercept: float = -2.27

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_DERIVATION = DerivationModel()


# ------------------------------------------------------------------------------ the database

SIGNATURE_PARAMS_KEY = "signature_params"
CANDIDATE_SETTINGS_KEY = "candidate_settings"
LABEL_THRESHOLDS_KEY = "label_thresholds"
LINEAGE_SETTINGS_KEY = "lineage_settings"
DERIVATION_MODEL_KEY = "derivation_model"
RECOMPUTE_COMMAND = "datasette-provenance match DB --full"


class SettingsError(Exception):
    """The database's matches were made with other candidate settings or label thresholds."""


def check_matching_settings(
    db,
    candidates: CandidateSettings = DEFAULT_CANDIDATES,
    thresholds: LabelThresholds = DEFAULT_THRESHOLDS,
    model: DerivationModel = DEFAULT_DERIVATION,
    *,
    recompute: bool = False,
) -> None:
    """Refuse to add matches made with these settings to matches made with others.

    Records the settings in ``provenance_meta`` (the caller commits) on first use, and
    when ``recompute``: every stored match is about to be made again with them.
    Raises ``SettingsError`` telling the user to recompute every match otherwise. A
    setting the database predates (one a later release added) is recorded, not refused:
    its matches were made before it existed, and only new matches use it.
    """
    current = {
        CANDIDATE_SETTINGS_KEY: candidates.as_dict(),
        LABEL_THRESHOLDS_KEY: thresholds.to_dict(),
        DERIVATION_MODEL_KEY: model.as_dict(),
    }
    differences = []
    for key, values in current.items():
        stored = get_meta(db, key)
        if stored is None or recompute:
            set_meta(db, key, values)
            continue
        known = {name: value for name, value in values.items() if name in stored}
        if stored != known:
            differences.append(describe_differences(stored, known))
        elif known != values:
            set_meta(db, key, values)
    if differences:
        raise SettingsError(
            f"{database_name(db)}: its matches were made with other settings "
            f"({'; '.join(differences)}); run `{RECOMPUTE_COMMAND}` to recompute them "
            "with the current ones"
        )


def describe_differences(stored: Mapping, current: Mapping) -> str:
    """"name: X in the database, Y now" for every value that differs."""
    keys = sorted(set(stored) | set(current))
    return ", ".join(
        f"{key}: {stored.get(key, 'unset')} in the database, {current.get(key, 'unset')} now"
        for key in keys
        if stored.get(key) != current.get(key)
    )
