"""Statements: words a story attributes to a speaker or a document.

Outlets covering one event quote the same press conference, press release, court
filing or tweet, often without quotation marks ("the ministry said in a statement
that ...", "he wrote on Twitter ..."). Sharing those words is reporting the same
statement, not copying another outlet. A token is *in a statement* when it lies
inside quotation marks or in a sentence that attributes what it says: one holding a
reporting verb or phrase (said, told, wrote, according to, in a statement, ...).
Verbs of action that introduce no words of the speaker ("announced", "decided") are
not cues: what follows them is the reporter's own wording.

The cues below cover the languages the cleaner knows and a few more. They are
compared as tokens (``tokens.normalize_word``: case, accents, Arabic-script letter
variants folded), so "Said", "قَالَ" and "قال" all match. Slavic verbs inflect, so
their cues are stems (``заявил`` matches заявила, заявили); the other cues are whole
words or phrases.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .tokens import normalize_word, tokenize

# fmt: off
_WORD_CUES = (
    # English
    "said", "says", "say", "saying", "told", "tells", "wrote", "writes", "tweeted", "tweet",
    "tweets", "posted", "stated", "statement", "statements", "declared", "insisted", "argued",
    "claimed", "asked", "replied", "testified", "testimony", "quoted", "explained", "warned",
    "added", "reported", "reports", "remarks", "interview",
    "spokesman", "spokeswoman", "spokesperson", "according",
    # French, Spanish, Portuguese, Italian, German
    "déclaré", "déclare", "selon", "communiqué", "affirmé", "affirme", "indiqué",
    "souligné", "précisé", "expliqué", "estimé",
    "dijo", "declaró", "según", "comunicado", "escribió", "afirmó", "señaló", "aseguró",
    "explicó", "indicó", "añadió",
    "disse", "afirmou", "declarou", "escreveu", "segundo",
    "dichiarato", "secondo", "detto",
    "sagte", "sagt", "erklärte", "laut", "erklärung", "schrieb", "betonte", "mitteilung",
    # Turkish
    "dedi", "söyledi", "açıkladı", "açıklama", "göre",
    # Arabic (with the conjunction و attached where it usually is)
    "قال", "قالت", "وقال", "وقالت", "يقول", "تقول", "أكد", "وأكد", "أكدت", "صرح", "وصرح",
    "تصريح", "تصريحات", "بيان", "وفقا", "حسب", "كتب", "وكتب", "تغريدة", "أضاف", "وأضاف",
    "أضافت",
    # Urdu
    "کہا", "کہنا", "کہتے", "کہتی", "کہنے", "بتایا", "مطابق", "بیان", "لکھا", "ٹویٹ",
    "اظہار", "خطاب",
    # Persian
    "گفت", "گفته", "بیانیه", "نوشت",
    # Hindi, Bengali, Tamil
    "कहा", "बताया", "अनुसार", "बयान", "लिखा", "ट्वीट",
    "বলেন", "বলেছেন", "জানান", "জানিয়েছেন", "অনুযায়ী", "বিবৃতি",
    "கூறினார்", "தெரிவித்தார்", "அறிக்கை",
    # Korean (spaced: a cue is a whole word)
    "말했다", "밝혔다", "따르면", "성명",
    # Chinese, Japanese: single characters are tokens
    "说", "說", "称", "稱", "据", "據",
)
# Stems of inflecting verbs and nouns (Russian, Ukrainian).
_STEM_CUES = (
    "сказал", "заявил", "заявлени", "сообщил", "написал", "отметил", "подчеркнул", "добавил",
    "пояснил", "рассказал", "говорит", "заявив", "повідомив", "сказав", "написав",
)
# Phrases whose words are too common alone (several tokens in a row).
_PHRASE_CUES = (
    "according to", "press release", "on twitter", "in a statement",
    "по словам", "по данным", "за словами", "за даними", "ha detto", "ha dichiarato",
    "के अनुसार", "کے مطابق", "به گفته",
    "表示", "声明", "聲明", "写道", "寫道", "指出", "述べ", "語った", "によると",
)
# fmt: on


def _normalized(words: Sequence[str]) -> frozenset[str]:
    return frozenset(normalize_word(word) for word in words)


WORD_CUES = _normalized(_WORD_CUES)
STEM_CUES = tuple(sorted(_normalized(_STEM_CUES)))
PHRASE_CUES = tuple(
    sorted({tuple(token.norm for token in tokenize(phrase)) for phrase in _PHRASE_CUES})
)
_PHRASE_STARTS = frozenset(phrase[0] for phrase in PHRASE_CUES)


def is_attributed(norms: Sequence[str]) -> bool:
    """Whether a sentence (its normalised tokens) attributes what it says to someone."""
    for index, norm in enumerate(norms):
        if norm in WORD_CUES:
            return True
        if norm in _PHRASE_STARTS and _phrase_at(norms, index):
            return True
        if norm[:1] in _STEM_INITIALS and norm.startswith(STEM_CUES):
            return True
    return False


_STEM_INITIALS = frozenset(stem[0] for stem in STEM_CUES)


def _phrase_at(norms: Sequence[str], index: int) -> bool:
    return any(
        tuple(norms[index : index + len(phrase)]) == phrase
        for phrase in PHRASE_CUES
        if phrase[0] == norms[index]
    )


def statement_tokens(
    norms: Sequence[str], sentences: Sequence[tuple[int, int]], quoted: np.ndarray
) -> np.ndarray:
    """Per token: inside quotation marks, or in a sentence that attributes what it says."""
    statement = np.array(quoted, dtype=bool, copy=True)
    for start, end in sentences:
        if end > start and is_attributed(norms[start:end]):
            statement[start:end] = True
    return statement
