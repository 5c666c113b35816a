"""The derivation decision: a calibrated probability that one text derives from another.

A logistic regression over a few kinds of evidence that hold for journalism in
general (see ``FEATURES``), computed from an alignment's scores oriented from the
earlier text (source) to the later one (derived). The coefficients are fitted on
labelled corpora by ``fit`` (``datasette-provenance evaluate --all DIR --fit``) and
shipped as constants (``parameters.DerivationModel``), so nothing is trained at
install or run time; a database records the model its verdicts were made with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..parameters import DEFAULT_DERIVATION, DerivationModel


@dataclass(frozen=True)
class Feature:
    name: str
    meaning: str


# Copied words count up to this many: two full sentences, which independent writers
# do not produce by chance (stock phrases and names are a few words each). Beyond it a
# copy is a copy whatever its length, so a 40-word passage lifted into a 3,000-word
# article weighs as much as a whole story copied.
COPY_SATURATION_WORDS = 40

# What each feature measures and why it tells copying from coverage of one event.
FEATURES = (
    Feature(
        "derived_phrase_overlap",
        "share of the later text's own wording (word 3-grams without names, numbers or "
        "statements) found in the earlier text: a rewrite keeps its source's wording, "
        "two reports of one event share its names, numbers and statements",
    ),
    Feature(
        "source_phrase_overlap",
        "share of the earlier text's own wording found in the later one: how much of the "
        "source was taken",
    ),
    Feature(
        "copied_words",
        f"the longest stretch copied verbatim or lightly edited, in words (names and numbers "
        f"aside, shared statements apart), up to {COPY_SATURATION_WORDS}, as a share of it: "
        f"a copy is one long stretch, while chance and shared facts give scattered short ones",
    ),
    Feature(
        "sentence_alignment",
        "sentence-by-sentence correspondence in order, above what two texts on one subject "
        "share",
    ),
)
FEATURE_NAMES = tuple(feature.name for feature in FEATURES)


def feature_vector(scores: Mapping[str, float]) -> np.ndarray:
    """The features of an alignment's scores (oriented source -> derived)."""
    copied = min(scores["longest_copied_phrasing"], COPY_SATURATION_WORDS) / COPY_SATURATION_WORDS
    return np.array(
        [
            scores["derived_phrase_overlap"],
            scores["source_phrase_overlap"],
            copied,
            scores["sentence_alignment"],
        ],
        dtype=np.float64,
    )


def probability(scores: Mapping[str, float], model: DerivationModel = DEFAULT_DERIVATION) -> float:
    """P(derived) for an alignment's scores (oriented source -> derived) under ``model``."""
    weights = np.array([getattr(model, name) for name in FEATURE_NAMES])
    logit = float(feature_vector(scores) @ weights) + model.intercept
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))


def fit(
    rows: Sequence[np.ndarray],
    derived: Sequence[bool],
    weights: Sequence[float],
    l2: float = 1e-3,
) -> DerivationModel:
    """Weighted logistic regression by Newton's method; weights rounded to 2 decimals.

    Deterministic and dependency-free (numpy), so anyone can reproduce the shipped
    coefficients from the labelled sets. ``l2`` is a tiny ridge penalty (not on the
    intercept) that keeps the fit finite when a set is perfectly separable.
    """
    features = np.vstack(rows)
    design = np.hstack([features, np.ones((len(features), 1))])
    target = np.asarray(derived, dtype=np.float64)
    weight = np.asarray(weights, dtype=np.float64)
    penalty = l2 * np.diag(np.r_[np.ones(features.shape[1]), 0.0])
    beta = np.zeros(design.shape[1])
    for _ in range(100):
        predicted = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (weight * (predicted - target)) + penalty @ beta
        hessian = (design * (weight * predicted * (1 - predicted))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-12:
            break
    weights = {name: round(float(value), 2) for name, value in zip(FEATURE_NAMES, beta)}
    return DerivationModel(**weights, intercept=round(float(beta[-1]), 2))
