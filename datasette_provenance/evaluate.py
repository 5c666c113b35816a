"""Score matching against labelled pairs (e.g. the Clough-Stevenson corpus).

The texts go through the normal ingest (``ingest.ingest``: cleaning, index,
candidates, alignment, labels) into a temporary database; the predictions are
read back from ``matches``. A labelled pair with no stored match was judged
independent (or never became a candidate), exactly as a user would see it.

Pair labels: ``verbatim``, ``light`` (-> ``light_edit``), ``heavy`` (->
``paraphrase``), ``independent``; a predicted ``shared_quotes`` counts as
independent. Reported: per-label precision/recall/F1, the 4-way macro-F1, the
binary derived-vs-independent F1, the confusion matrix and direction accuracy
- with and without pairs noted ``known_mislabel``.

Tuning: the shipped thresholds (``parameters.DEFAULT_THRESHOLDS``) know nothing of
any corpus. ``leave_one_out`` shows what tuning on labelled data would give
without fooling ourselves: pairs are grouped by a regex on the derived id
(``_task(.)$``), thresholds are tuned on all groups but one and applied to the
one left out, and the held-out predictions of all folds are scored together.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .matching import lineage
from .parameters import DEFAULT_THRESHOLDS, LabelThresholds
from .vocabulary import DERIVED_LABELS

# The four classes scored: the derived labels, and independent (shared quotes count as it).
EVAL_LABELS = DERIVED_LABELS + ("independent",)
PAIR_LABELS = {
    "verbatim": "verbatim",
    "light": "light_edit",
    "heavy": "paraphrase",
    "independent": "independent",
}
MISLABEL_NOTE = "known_mislabel"

# Threshold grids for leave-one-group-out tuning. Reuse thresholds are tuned
# first for the binary decision, then the kind thresholds for the 4-way one.
REUSE_GRID = {
    "min_sentence_alignment": [0.05, 0.06, 0.07, 0.075, 0.08, 0.09, 0.1, 0.12],
    "min_copy_share": [0.1, 0.15, 0.2, 0.25, 0.3],
}
KIND_GRID = {
    "verbatim_max_edits_per_100": [1.0, 2.0, 3.0, 4.0, 4.5, 5.0, 6.0, 8.0],
    "light_edit_min_fidelity": [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8],
}


class EvaluationError(Exception):
    """Unusable evaluation input; ``str`` is one line naming the file."""


@dataclass(frozen=True)
class LabelledPair:
    source_id: str
    derived_id: str
    label: str  # one of EVAL_LABELS
    note: str = ""

    @property
    def is_derived(self) -> bool:
        return self.label != "independent"


@dataclass(frozen=True)
class Prediction:
    pair: LabelledPair
    label: str  # one of EVAL_LABELS (shared_quotes and missing pairs are independent)
    predicted_source: str | None  # article id the matcher took as source
    scores: dict | None  # the stored match's scores, to re-label with other thresholds

    @property
    def is_derived(self) -> bool:
        return self.label != "independent"

    def relabelled(self, thresholds: LabelThresholds) -> "Prediction":
        if self.scores is None:
            return self
        new_label, _ = lineage.label(self.scores, thresholds)
        return replace(self, label=to_eval_label(new_label))


@dataclass
class Scores:
    pairs: int
    per_label: dict[str, dict[str, float]]
    macro_f1: float
    binary: dict[str, float]
    confusion: dict[str, dict[str, int]]  # gold -> predicted -> count
    direction_accuracy: float | None
    direction_pairs: int


@dataclass
class EvaluationReport:
    all_pairs: Scores
    without_mislabels: Scores
    leave_one_out: dict | None = None
    thresholds: dict = field(default_factory=dict)
    database: str | None = None
    errors: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


# ------------------------------------------------------------------------------
# Input


def load_pairs(pairs_csv: str) -> list[LabelledPair]:
    """Read ``source_id,derived_id,label[,note]`` rows."""
    path = Path(pairs_csv)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise EvaluationError(f"{path}: cannot read ({error.strerror})") from error
    pairs = []
    for line, row in enumerate(rows, start=2):
        label = (row.get("label") or "").strip()
        if label not in PAIR_LABELS or not row.get("source_id") or not row.get("derived_id"):
            raise EvaluationError(
                f"{path}:{line}: need source_id, derived_id and a label in {', '.join(PAIR_LABELS)}"
            )
        pairs.append(
            LabelledPair(
                row["source_id"].strip(),
                row["derived_id"].strip(),
                PAIR_LABELS[label],
                (row.get("note") or "").strip(),
            )
        )
    return pairs


def to_eval_label(label: str) -> str:
    return label if label in EVAL_LABELS else "independent"


# ------------------------------------------------------------------------------
# Building the database and reading predictions


def ingest_texts(db_path: str, texts_dir: str) -> None:
    """The normal ingest, matching included: no shortcut around the product."""
    from .ingest import ingest

    ingest(db_path, [texts_dir])


def read_predictions(db_path: str, pairs: Sequence[LabelledPair]) -> list[Prediction]:
    """The stored verdict for each labelled pair (any segments, either orientation)."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        best: dict[frozenset, tuple] = {}
        for source, derived, label, scores in conn.execute(
            "SELECT source_article_id, derived_article_id, label, scores FROM matches"
        ):
            key = frozenset((source, derived))
            strength = _strength(label, json.loads(scores))
            if key not in best or strength > best[key][0]:
                best[key] = (strength, source, label, json.loads(scores))
    finally:
        conn.close()
    predictions = []
    for pair in pairs:
        found = best.get(frozenset((pair.source_id, pair.derived_id)))
        if found is None:
            predictions.append(Prediction(pair, "independent", None, None))
            continue
        _, source, label, scores = found
        oriented = scores if source == pair.source_id else _swap(scores)
        predictions.append(Prediction(pair, to_eval_label(label), source, oriented))
    return predictions


def _strength(label: str, scores: dict) -> tuple:
    """Of several segment matches of one article pair, the most derived and closest counts."""
    return (label in DERIVED_LABELS, scores.get("closeness", 0.0))


def _swap(scores: dict) -> dict:
    from .matching.align import swap_score_names

    return swap_score_names(scores)


# ------------------------------------------------------------------------------
# Scoring


def score(predictions: Sequence[Prediction]) -> Scores:
    confusion = {gold: {predicted: 0 for predicted in EVAL_LABELS} for gold in EVAL_LABELS}
    for prediction in predictions:
        confusion[prediction.pair.label][prediction.label] += 1
    per_label = {label: _precision_recall_f1(confusion, label) for label in EVAL_LABELS}
    macro = sum(values["f1"] for values in per_label.values()) / len(EVAL_LABELS)
    direction = [
        p.predicted_source == p.pair.source_id
        for p in predictions
        if p.pair.is_derived and p.is_derived
    ]
    return Scores(
        pairs=len(predictions),
        per_label=per_label,
        macro_f1=macro,
        binary=_binary(predictions),
        confusion=confusion,
        direction_accuracy=sum(direction) / len(direction) if direction else None,
        direction_pairs=len(direction),
    )


def _precision_recall_f1(confusion: dict, label: str) -> dict[str, float]:
    true_positive = confusion[label][label]
    predicted = sum(confusion[gold][label] for gold in EVAL_LABELS)
    actual = sum(confusion[label].values())
    return _prf(true_positive, predicted, actual) | {"support": actual}


def _binary(predictions: Sequence[Prediction]) -> dict[str, float]:
    true_positive = sum(p.pair.is_derived and p.is_derived for p in predictions)
    predicted = sum(p.is_derived for p in predictions)
    actual = sum(p.pair.is_derived for p in predictions)
    correct = sum(p.pair.is_derived == p.is_derived for p in predictions)
    return _prf(true_positive, predicted, actual) | {
        "accuracy": correct / len(predictions) if predictions else 0.0
    }


def _prf(true_positive: int, predicted: int, actual: int) -> dict[str, float]:
    precision = true_positive / predicted if predicted else 0.0
    recall = true_positive / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


# ------------------------------------------------------------------------------
# Leave one group out


def leave_one_group_out(predictions: Sequence[Prediction], group_regex: str) -> dict:
    """Tune thresholds on all groups but one, score the one left out; all folds scored together."""
    pattern = re.compile(group_regex)
    groups: dict[str, list[Prediction]] = {}
    for prediction in predictions:
        found = pattern.search(prediction.pair.derived_id)
        if not found:
            raise EvaluationError(
                f"--leave-one-out {group_regex!r} does not match {prediction.pair.derived_id!r}"
            )
        groups.setdefault(found.group(1) if found.groups() else found.group(0), []).append(
            prediction
        )
    if len(groups) < 2:
        raise EvaluationError(
            f"--leave-one-out {group_regex!r} makes {len(groups)} group(s); need at least 2"
        )
    held_out: list[Prediction] = []
    folds = {}
    for name in sorted(groups):
        training = [p for other, members in groups.items() if other != name for p in members]
        thresholds = tune_thresholds(training)
        held_out += [p.relabelled(thresholds) for p in groups[name]]
        folds[name] = _changed_thresholds(thresholds)
    return {
        "group_regex": group_regex,
        "folds": folds,
        "all_pairs": asdict(score(held_out)),
        "without_mislabels": asdict(score([p for p in held_out if p.pair.note != MISLABEL_NOTE])),
    }


def tune_thresholds(
    predictions: Sequence[Prediction], start: LabelThresholds = DEFAULT_THRESHOLDS
) -> LabelThresholds:
    """Grid search: reuse thresholds for binary F1, then kind thresholds for macro-F1.

    Ties go to the values nearest the defaults, so tuning moves a threshold only
    when the data clearly asks for it.
    """
    thresholds = _grid_search(predictions, start, REUSE_GRID, lambda s: s.binary["f1"])
    return _grid_search(predictions, thresholds, KIND_GRID, lambda s: s.macro_f1)


def _grid_search(
    predictions,
    start: LabelThresholds,
    grid: dict[str, list[float]],
    objective: Callable[[Scores], float],
) -> LabelThresholds:
    names = list(grid)
    best, best_key = start, None
    for values in _product([grid[name] for name in names]):
        candidate = replace(start, **dict(zip(names, values)))
        value = objective(score([p.relabelled(candidate) for p in predictions]))
        distance = sum(
            abs(getattr(candidate, n) - getattr(start, n)) / max(abs(getattr(start, n)), 1e-9)
            for n in names
        )
        key = (round(value, 9), -distance)
        if best_key is None or key > best_key:
            best, best_key = candidate, key
    return best


def _product(lists: list[list[float]]) -> Iterable[tuple]:
    if not lists:
        yield ()
        return
    for value in lists[0]:
        for rest in _product(lists[1:]):
            yield (value, *rest)


def _changed_thresholds(thresholds: LabelThresholds) -> dict:
    defaults = DEFAULT_THRESHOLDS.to_dict()
    return {name: value for name, value in thresholds.to_dict().items() if defaults[name] != value}


# ------------------------------------------------------------------------------
# Entry point and report


def run_evaluation(
    pairs_csv: str,
    texts_dir: str,
    workdir: str | None = None,
    leave_one_out: str | None = None,
    *,
    ingest: Callable[[str, str], None] = ingest_texts,
) -> EvaluationReport:
    """Ingest ``texts_dir`` through the pipeline, read the verdicts, score them."""
    pairs = load_pairs(pairs_csv)
    if not os.path.isdir(texts_dir):
        raise EvaluationError(f"{texts_dir}: not a directory")
    _check_texts_exist(pairs, texts_dir)
    if workdir:
        os.makedirs(workdir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=workdir) as temporary:
        db_path = os.path.join(workdir or temporary, "evaluation.db")
        if os.path.exists(db_path):
            os.remove(db_path)
        ingest(db_path, texts_dir)
        predictions = read_predictions(db_path, pairs)
    report = EvaluationReport(
        all_pairs=score(predictions),
        without_mislabels=score([p for p in predictions if p.pair.note != MISLABEL_NOTE]),
        thresholds=DEFAULT_THRESHOLDS.to_dict(),
        database=db_path if workdir else None,
        errors=[
            {
                "source_id": p.pair.source_id,
                "derived_id": p.pair.derived_id,
                "gold": p.pair.label,
                "predicted": p.label,
                "note": p.pair.note,
            }
            for p in predictions
            if p.label != p.pair.label
        ],
    )
    if leave_one_out:
        report.leave_one_out = leave_one_group_out(predictions, leave_one_out)
    return report


def _check_texts_exist(pairs: Sequence[LabelledPair], texts_dir: str) -> None:
    stems = {Path(name).stem for name in os.listdir(texts_dir)}
    missing = sorted({i for p in pairs for i in (p.source_id, p.derived_id)} - stems)
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise EvaluationError(f"{texts_dir}: no text for {', '.join(missing[:5])}{more}")


def format_report(report: EvaluationReport) -> str:
    """A readable plain-text report."""
    lines = ["Evaluation with the shipped thresholds (no tuning)", ""]
    lines += _format_scores("All pairs", asdict(report.all_pairs))
    lines += _format_scores("Without known mislabels", asdict(report.without_mislabels))
    if report.leave_one_out:
        loo = report.leave_one_out
        lines += [
            f"Leave one group out (groups: {loo['group_regex']}; thresholds tuned on the others)",
            "",
        ]
        for name, changed in loo["folds"].items():
            described = ", ".join(f"{k}={v}" for k, v in changed.items()) or "defaults kept"
            lines.append(f"  held out {name}: {described}")
        lines.append("")
        lines += _format_scores("Leave one group out, all pairs", loo["all_pairs"])
        lines += _format_scores(
            "Leave one group out, without known mislabels", loo["without_mislabels"]
        )
    if report.errors:
        lines.append(f"Disagreements with the labels ({len(report.errors)}):")
        for error in report.errors:
            note = f"  [{error['note']}]" if error["note"] else ""
            lines.append(
                f"  {error['source_id']} -> {error['derived_id']}: labelled {error['gold']}, "
                f"predicted {error['predicted']}{note}"
            )
    return "\n".join(lines)


def _format_scores(title: str, scores: dict) -> list[str]:
    binary = scores["binary"]
    direction = scores["direction_accuracy"]
    lines = [
        f"{title} ({scores['pairs']} pairs)",
        f"  binary derived vs independent: F1 {binary['f1']:.3f}  "
        f"precision {binary['precision']:.3f}  recall {binary['recall']:.3f}  "
        f"accuracy {binary['accuracy']:.3f}",
        f"  4-way macro-F1: {scores['macro_f1']:.3f}",
        "  direction accuracy: "
        + (
            f"{direction:.3f} ({scores['direction_pairs']} pairs derived in both)"
            if direction is not None
            else "n/a"
        ),
        "",
        f"  {'label':<12} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}",
    ]
    for label, values in scores["per_label"].items():
        lines.append(
            f"  {label:<12} {values['precision']:>9.3f} {values['recall']:>7.3f} "
            f"{values['f1']:>6.3f} {values['support']:>8}"
        )
    lines += [
        "",
        "  confusion (rows: labelled, columns: predicted)",
        "  " + " " * 12 + "".join(f"{label:>12}" for label in EVAL_LABELS),
    ]
    for gold, row in scores["confusion"].items():
        lines.append(f"  {gold:<12}" + "".join(f"{row[label]:>12}" for label in EVAL_LABELS))
    lines.append("")
    return lines
