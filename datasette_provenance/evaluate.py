"""Score matching against labelled sets of article pairs, and fit the derivation model.

A labelled set is a folder holding ``texts/`` (one ``.txt`` per article, the file
stem is its id), ``pairs.csv`` (``source_id,derived_id,label[,note]``) and, when
metadata is known, ``manifest.csv`` (as ``ingest --manifest`` reads it: outlets and
dates). Each set goes through the normal ingest (cleaning, index, candidates,
alignment, labels) into a temporary database and the verdicts are read back from
``matches``: a labelled pair with no stored derived match was judged not derived
(or never became a candidate), exactly as a user would see it.

Gold labels ``wholly_derived``, ``partially_derived``, ``derived``, ``verbatim``,
``light`` and ``heavy`` count as derived; ``independent`` does not. Sets labelled
by kind (``verbatim``, ``light``, ``heavy``, ``independent``, as Clough-Stevenson)
are also scored 4-way against the matcher's ``verbatim`` / ``light_edit`` /
``paraphrase`` / not derived.

Per set: binary precision, recall and F1, the share of independent pairs called
derived, the 4-way macro-F1 where the labels allow, direction accuracy (of pairs
derived in both gold and verdict: is the labelled source the one the matcher took
as source), ROC AUC of the derivation probability (a pair never compared scores 0)
and the number of story clusters.

Leave one set out: the derivation model is fitted on every set but one (on each
labelled pair aligned directly, so the fit does not depend on which candidates the
index found) and applied to the stored matches of the set left out. ``--fit``
fits it on all the sets given: that is how the shipped model
(``parameters.DerivationModel``) was made.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from .matching import derivation, lineage
from .parameters import DEFAULT_DERIVATION, DerivationModel
from .vocabulary import DERIVED_LABELS

DERIVED_GOLD = ("wholly_derived", "partially_derived", "derived", "verbatim", "light", "heavy")
INDEPENDENT_GOLD = ("independent",)
# Gold labels naming the kind of reuse -> the matcher's label for that kind.
KIND_OF_GOLD = {
    "verbatim": "verbatim",
    "light": "light_edit",
    "heavy": "paraphrase",
    "independent": "independent",
}
KINDS = ("verbatim", "light_edit", "paraphrase", "independent")
MISLABEL_NOTE = "known_mislabel"


class EvaluationError(Exception):
    """Unusable evaluation input; ``str`` is one line naming the file."""


# ------------------------------------------------------------------------------
# Input


@dataclass(frozen=True)
class LabelledPair:
    source_id: str
    derived_id: str
    gold: str  # as written in pairs.csv
    note: str = ""

    @property
    def is_derived(self) -> bool:
        return self.gold in DERIVED_GOLD

    @property
    def kind(self) -> str | None:
        """The 4-way label the gold names, or None (``wholly_derived`` names no kind)."""
        return KIND_OF_GOLD.get(self.gold)


@dataclass(frozen=True)
class LabelledSet:
    name: str
    directory: str
    pairs: tuple[LabelledPair, ...]
    texts: str
    manifest: str | None

    @property
    def has_kinds(self) -> bool:
        """Labelled by kind of reuse, with at least two kinds of derivation."""
        kinds = {pair.kind for pair in self.pairs if pair.is_derived}
        return None not in kinds and len(kinds) >= 2


def load_set(directory: str) -> LabelledSet:
    """A labelled set folder (texts/, pairs.csv, optional manifest.csv)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise EvaluationError(f"{folder}: not a directory")
    texts = folder / "texts"
    if not texts.is_dir():
        raise EvaluationError(f"{folder}: no texts/ folder")
    pairs = load_pairs(str(folder / "pairs.csv"))
    _check_texts_exist(pairs, str(texts))
    manifest = folder / "manifest.csv"
    return LabelledSet(
        name=folder.name,
        directory=str(folder),
        pairs=tuple(pairs),
        texts=str(texts),
        manifest=str(manifest) if manifest.exists() else None,
    )


def find_sets(root: str) -> list[LabelledSet]:
    """Every labelled set folder directly under ``root`` (those holding a pairs.csv), by name."""
    folder = Path(root)
    if not folder.is_dir():
        raise EvaluationError(f"{folder}: not a directory")
    found = sorted(path.parent for path in folder.glob("*/pairs.csv"))
    if not found:
        raise EvaluationError(f"{folder}: no labelled set (a folder with pairs.csv) inside")
    return [load_set(str(path)) for path in found]


def load_pairs(pairs_csv: str) -> list[LabelledPair]:
    """Read ``source_id,derived_id,label[,note]`` rows."""
    path = Path(pairs_csv)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise EvaluationError(f"{path}: cannot read ({error.strerror})") from error
    known = DERIVED_GOLD + INDEPENDENT_GOLD
    pairs = []
    for line, row in enumerate(rows, start=2):
        gold = (row.get("label") or "").strip()
        source, derived = (row.get("source_id") or "").strip(), (row.get("derived_id") or "").strip()
        if gold not in known or not source or not derived:
            raise EvaluationError(
                f"{path}:{line}: need source_id, derived_id and a label in {', '.join(known)}"
            )
        pairs.append(LabelledPair(source, derived, gold, (row.get("note") or "").strip()))
    if not pairs:
        raise EvaluationError(f"{path}: no labelled pairs")
    return pairs


def _check_texts_exist(pairs: Sequence[LabelledPair], texts_dir: str) -> None:
    stems = {Path(name).stem for name in os.listdir(texts_dir)}
    missing = sorted({i for p in pairs for i in (p.source_id, p.derived_id)} - stems)
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise EvaluationError(f"{texts_dir}: no text for {', '.join(missing[:5])}{more}")


# ------------------------------------------------------------------------------
# Verdicts


@dataclass(frozen=True)
class Verdict:
    """What the matcher concluded about one labelled pair."""

    pair: LabelledPair
    label: str  # the stored label of the strongest match, or "independent" when none
    probability: float  # of derivation (0 when the pair was never stored)
    predicted_source: str | None  # the article the matcher took as source
    features: tuple[tuple[str, float], ...] = ()  # scores of each stored segment match

    @property
    def is_derived(self) -> bool:
        return self.label in DERIVED_LABELS

    @property
    def kind(self) -> str:
        return self.label if self.is_derived else "independent"


def build_database(labelled: LabelledSet, db_path: str) -> None:
    """The normal ingest, matching included: no shortcut around the product."""
    from .ingest import ingest

    ingest(db_path, [labelled.texts], manifest=labelled.manifest)


def read_verdicts(db_path: str, pairs: Sequence[LabelledPair]) -> list[Verdict]:
    """The stored verdict for each labelled pair: of its segment matches, the most probable."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        matches: dict[frozenset, list[tuple]] = {}
        for source, derived, label, probability, scores in conn.execute(
            "SELECT source_article_id, derived_article_id, label, derivation_probability, scores "
            "FROM matches"
        ):
            key = frozenset((source, derived))
            matches.setdefault(key, []).append((probability or 0.0, source, label, scores))
    finally:
        conn.close()
    verdicts = []
    for pair in pairs:
        found = matches.get(frozenset((pair.source_id, pair.derived_id)))
        if not found:
            verdicts.append(Verdict(pair, "independent", 0.0, None))
            continue
        probability, source, label, _ = max(found, key=lambda m: (m[0], m[2]))
        stored = tuple((m[1], m[3]) for m in found)
        verdicts.append(Verdict(pair, label, probability, source, stored))
    return verdicts


def rescored(verdict: Verdict, model: DerivationModel) -> Verdict:
    """The verdict the stored matches would get under another derivation model."""
    if not verdict.features:
        return verdict
    best = None
    for source, scores_json in verdict.features:
        scores = json.loads(scores_json)
        probability = derivation.probability(scores, model)
        if best is None or probability > best[0]:
            best = (probability, source, scores)
    probability, source, scores = best
    label = lineage.label(scores, model=model)[0]
    return Verdict(verdict.pair, label, probability, source, verdict.features)


# ------------------------------------------------------------------------------
# Scores


@dataclass
class SetScores:
    name: str
    pairs: int
    binary: dict[str, float]
    independent_called_derived: float | None  # share of independent pairs called derived
    auc: float | None
    direction_accuracy: float | None
    direction_pairs: int
    dated_pairs: int  # labelled pairs whose two articles both have a date
    macro_f1: float | None = None  # 4-way, when the set is labelled by kind
    per_label: dict[str, dict[str, float]] | None = None
    confusion: dict[str, dict[str, int]] | None = None
    stories: int | None = None
    errors: list[dict] = field(default_factory=list)


def score_set(
    name: str,
    verdicts: Sequence[Verdict],
    *,
    with_kinds: bool = False,
    stories: int | None = None,
    dated: Iterable[LabelledPair] = (),
) -> SetScores:
    tp = sum(v.pair.is_derived and v.is_derived for v in verdicts)
    fp = sum(not v.pair.is_derived and v.is_derived for v in verdicts)
    fn = sum(v.pair.is_derived and not v.is_derived for v in verdicts)
    tn = len(verdicts) - tp - fp - fn
    direction = [
        v.predicted_source == v.pair.source_id
        for v in verdicts
        if v.pair.is_derived and v.is_derived
    ]
    scores = SetScores(
        name=name,
        pairs=len(verdicts),
        binary=_prf(tp, tp + fp, tp + fn)
        | {"accuracy": (tp + tn) / len(verdicts) if verdicts else 0.0}
        | {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        independent_called_derived=fp / (fp + tn) if fp + tn else None,
        auc=roc_auc([v.probability for v in verdicts], [v.pair.is_derived for v in verdicts]),
        direction_accuracy=sum(direction) / len(direction) if direction else None,
        direction_pairs=len(direction),
        dated_pairs=len(set(dated)),
        stories=stories,
        errors=[
            {
                "source_id": v.pair.source_id,
                "derived_id": v.pair.derived_id,
                "gold": v.pair.gold,
                "predicted": v.label,
                "probability": round(v.probability, 3),
                "note": v.pair.note,
            }
            for v in verdicts
            if v.pair.is_derived != v.is_derived
        ],
    )
    if with_kinds:
        scores.confusion = {gold: {kind: 0 for kind in KINDS} for gold in KINDS}
        for verdict in verdicts:
            scores.confusion[verdict.pair.kind][verdict.kind] += 1
        scores.per_label = {kind: _kind_scores(scores.confusion, kind) for kind in KINDS}
        scores.macro_f1 = sum(v["f1"] for v in scores.per_label.values()) / len(KINDS)
    return scores


def _kind_scores(confusion: dict, kind: str) -> dict[str, float]:
    true_positive = confusion[kind][kind]
    predicted = sum(confusion[gold][kind] for gold in KINDS)
    actual = sum(confusion[kind].values())
    return _prf(true_positive, predicted, actual) | {"support": actual}


def _prf(true_positive: int, predicted: int, actual: int) -> dict[str, float]:
    precision = true_positive / predicted if predicted else 0.0
    recall = true_positive / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """Probability that a derived pair scores above an independent one (ties count half)."""
    values = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(positive, dtype=bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if not positives or not negatives:
        return None
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    while start < len(values):  # mid-ranks for ties
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


# ------------------------------------------------------------------------------
# Training rows and leave one set out


def training_rows(labelled: LabelledSet, db_path: str) -> list[tuple[np.ndarray, bool]]:
    """The derivation features of every labelled pair, aligned directly.

    Of an article pair's segment pairs, the one whose later text shares the most of
    its own wording stands for it (what the stored verdict's strongest match is
    when the segments are candidates).
    """
    from . import store
    from .matching import corpus
    from .matching.pairs import judge_pair
    from .matching.segments import SegmentStore

    db = store.connect(db_path)
    try:
        segments = SegmentStore(db)
        rarity = corpus.stored_rarity(db)
        rows = []
        for pair in labelled.pairs:
            best = None
            for first in segments.article_segment_ids(pair.source_id):
                for second in segments.article_segment_ids(pair.derived_id):
                    judged = judge_pair(segments.get(first), segments.get(second), rarity)
                    scores = judged.alignment.scores
                    key = (scores["derived_phrase_overlap"], scores["copied_phrasing_tokens"])
                    if best is None or key > best[0]:
                        best = (key, scores)
            if best is not None:
                rows.append((derivation.feature_vector(best[1]), pair.is_derived))
    finally:
        db.conn.close()
    return rows


def fit_model(rows_by_set: Mapping[str, list[tuple[np.ndarray, bool]]]) -> DerivationModel:
    """The derivation model fitted on these sets, each set weighing the same in total."""
    features, derived, weights = [], [], []
    for rows in rows_by_set.values():
        for vector, is_derived in rows:
            features.append(vector)
            derived.append(is_derived)
            weights.append(1.0 / len(rows))
    return derivation.fit(features, derived, weights)


# ------------------------------------------------------------------------------
# Running


@dataclass
class EvaluationReport:
    sets: dict[str, SetScores]
    leave_one_set_out: dict[str, SetScores] | None = None
    leave_one_set_out_models: dict[str, dict] | None = None
    model: dict = field(default_factory=dict)  # the derivation model the verdicts were made with
    fitted: dict | None = None  # with --fit: fitted on all the sets given
    databases: dict[str, str] | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False)


@dataclass
class _SetRun:
    labelled: LabelledSet
    db_path: str
    verdicts: list[Verdict]
    stories: int
    dated: list[LabelledPair]


def run(
    sets: Sequence[LabelledSet],
    *,
    leave_one_out: bool = True,
    fit: bool = False,
    workdir: str | None = None,
    progress=None,
) -> EvaluationReport:
    """Ingest every set, score its verdicts; leave one set out (with two sets or more)."""
    say = progress or (lambda line: None)
    if workdir:
        os.makedirs(workdir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=workdir) as temporary:
        folder = workdir or temporary
        runs = []
        for labelled in sets:
            say(f"{labelled.name}: ingesting and matching {len(labelled.pairs)} labelled pairs")
            runs.append(_run_set(labelled, folder))
        report = EvaluationReport(
            sets={r.labelled.name: _score_run(r) for r in runs},
            model=DEFAULT_DERIVATION.as_dict(),
            databases={r.labelled.name: r.db_path for r in runs} if workdir else None,
        )
        if (leave_one_out and len(runs) >= 2) or fit:
            rows = {}
            for r in runs:
                say(f"{r.labelled.name}: aligning every labelled pair for the fit")
                rows[r.labelled.name] = training_rows(r.labelled, r.db_path)
            if fit:
                report.fitted = fit_model(rows).as_dict()
            if leave_one_out and len(runs) >= 2:
                report.leave_one_set_out, report.leave_one_set_out_models = {}, {}
                for r in runs:
                    others = {name: v for name, v in rows.items() if name != r.labelled.name}
                    model = fit_model(others)
                    verdicts = [rescored(v, model) for v in r.verdicts]
                    report.leave_one_set_out[r.labelled.name] = score_set(
                        r.labelled.name, verdicts, with_kinds=r.labelled.has_kinds
                    )
                    report.leave_one_set_out_models[r.labelled.name] = model.as_dict()
    return report


def _run_set(labelled: LabelledSet, folder: str) -> _SetRun:
    db_path = os.path.join(folder, f"{labelled.name}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            os.remove(db_path + suffix)
    build_database(labelled, db_path)
    verdicts = read_verdicts(db_path, labelled.pairs)
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        stories = conn.execute("SELECT count(*) FROM clusters").fetchone()[0]
        dated_ids = {row[0] for row in conn.execute("SELECT id FROM articles WHERE published IS NOT NULL")}
    finally:
        conn.close()
    dated = [p for p in labelled.pairs if p.source_id in dated_ids and p.derived_id in dated_ids]
    return _SetRun(labelled, db_path, verdicts, stories, dated)


def _score_run(run_: _SetRun) -> SetScores:
    return score_set(
        run_.labelled.name,
        run_.verdicts,
        with_kinds=run_.labelled.has_kinds,
        stories=run_.stories,
        dated=run_.dated,
    )


# ------------------------------------------------------------------------------
# Report


def format_report(report: EvaluationReport) -> str:
    """The whole table, leave-one-set-out beside it, then the disagreements."""
    lines = [
        "| set | pairs | precision | recall | F1 | independent called derived | 4-way macro-F1 "
        "| direction | ROC AUC | stories | leave-one-set-out F1 (P / R) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, scores in report.sets.items():
        held = (report.leave_one_set_out or {}).get(name)
        precision, recall, f1 = _binary(scores)
        lines.append(
            f"| {name} | {scores.pairs} | {precision} | {recall} | **{f1}** "
            f"| {_share(scores)} | {_f(scores.macro_f1)} | {_direction(scores)} "
            f"| {_f(scores.auc)} | {_f(scores.stories, digits=0)} | {_held_out(held)} |"
        )
    lines.append("")
    weights = ", ".join(f"{k} {v:+.2f}" for k, v in report.model.items())
    lines.append(f"Derivation model: {weights}")
    if report.fitted:
        fitted = ", ".join(f"{k} {v:+.2f}" for k, v in report.fitted.items())
        lines.append(f"Fitted on all {len(report.sets)} sets: {fitted}")
    for name, scores in report.sets.items():
        if scores.errors:
            lines += ["", f"{name}: {len(scores.errors)} disagreement(s) with the labels"]
            for error in scores.errors[:40]:
                note = f"  [{error['note']}]" if error["note"] else ""
                lines.append(
                    f"  {error['source_id']} -> {error['derived_id']}: labelled {error['gold']}, "
                    f"predicted {error['predicted']} (p = {error['probability']:.2f}){note}"
                )
            if len(scores.errors) > 40:
                lines.append(f"  ... and {len(scores.errors) - 40} more (see --json)")
    return "\n".join(lines)


def _binary(scores: SetScores) -> tuple[str, str, str]:
    """Precision, recall and F1, or dashes for a set without derived pairs (there, the share
    of independent pairs called derived says it all)."""
    binary = scores.binary
    if not binary["tp"] + binary["fn"]:
        return "–", "–", "–"
    return _f(binary["precision"]), _f(binary["recall"]), _f(binary["f1"])


def _f(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if digits else f"{value:,}"


def _share(scores: SetScores) -> str:
    if scores.independent_called_derived is None:
        return "–"
    fp, negatives = scores.binary["fp"], scores.binary["fp"] + scores.binary["tn"]
    return f"{scores.independent_called_derived:.3f} ({fp} of {negatives})"


def _direction(scores: SetScores) -> str:
    if scores.direction_accuracy is None:
        return "–"
    return f"{scores.direction_accuracy:.3f} of {scores.direction_pairs} ({scores.dated_pairs} dated)"


def _held_out(scores: SetScores | None) -> str:
    if scores is None:
        return "–"
    binary = scores.binary
    if not binary["tp"] + binary["fn"]:
        return f"{binary['fp']} of {binary['fp'] + binary['tn']} called derived"
    return f"{binary['f1']:.3f} ({binary['precision']:.3f} / {binary['recall']:.3f})"
