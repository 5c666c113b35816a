"""Words in every script: what a token is, and what it is compared as (matching/tokens.py)."""

from __future__ import annotations

import unicodedata

import pytest

from datasette_provenance.matching.tokens import normalize_word, tokenize, words


def norms(text: str) -> list[str]:
    return [token.norm for token in tokenize(text)]


def spans(text: str) -> list[str]:
    return [text[token.start : token.end] for token in tokenize(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        # Hindi: vowel signs (matras) and the virama are inside the word.
        ("दिल्ली में भारत सरकार ने घोषणा की", ["दिल्ली", "में", "भारत", "सरकार", "ने", "घोषणा", "की"]),
        # Bengali: vowel signs, the virama and the chandrabindu.
        ("ঢাকায় সরকারি কর্মকর্তারা বৈঠক করেছেন", ["ঢাকায", "সরকারি", "কর্মকর্তারা", "বৈঠক", "করেছেন"]),
        # Tamil: the pulli (virama) and vowel signs.
        ("சென்னையில் மழை பெய்தது", ["சென்னையில்", "மழை", "பெய்தது"]),
        # Urdu: a decomposed madda (ا + ◌ٓ) does not split "آباد"; letters are folded.
        ("وزیراعظم اسلام ا\u0653باد پہنچ گئے", ["وزیراعظم", "اسلام", "اباد", "پہنچ", "گیے"]),
        # Persian: the zero-width non-joiner stays inside "می‌گوید".
        ("وزیر خارجه می\u200cگوید مذاکرات ادامه دارد", ["وزیر", "خارجہ", "میگوید", "مذاکرات", "ادامہ", "دارد"]),
        # Arabic: harakat are dropped, so vowelled and unvowelled spellings match.
        ("قَالَ الرَّئِيسُ إِنَّ الاتفاق مهم", ["قال", "الرییس", "ان", "الاتفاق", "مہم"]),
        # Russian: an accent mark does not split a word; case is folded.
        ("Москва́ объявила о новых мерах", ["москва", "объявила", "о", "новых", "мерах"]),
        # Chinese: written without spaces, so every character is a token.
        ("北京宣布新措施", ["北", "京", "宣", "布", "新", "措", "施"]),
    ],
)
def test_words_in_every_script(text, expected):
    assert norms(text) == expected
    assert words(text) == expected  # the fast path used for signing agrees


def test_marks_stay_inside_the_word_they_follow():
    hindi = "दिल्ली"
    assert spans(f"{hindi} में") == [hindi, "में"]
    urdu = "اسلام ا\u0653باد"
    assert spans(urdu) == ["اسلام", "ا\u0653باد"]


def test_arabic_and_urdu_spellings_of_one_word_match():
    # ي/ی, ك/ک, ه/ہ, ة/ۃ, ى: the same word typed on an Arabic or an Urdu keyboard.
    assert normalize_word("كتاب") == normalize_word("کتاب")
    assert normalize_word("يوم") == normalize_word("یوم")
    assert normalize_word("مدينة") == normalize_word("مدینۃ")
    assert normalize_word("على") == normalize_word("علی")
    assert normalize_word("الله") == normalize_word("اللہ")


def test_digits_of_every_script_are_ascii_digits():
    assert norms("سال ۱۴۰۲ و ٢٠٢٣ और २०२४") == ["سال", "1402", "و", "2023", "और", "2024"]


def test_a_number_glued_to_an_arabic_script_word_is_two_words():
    assert norms("228رنز کا ہدف") == ["228", "رنز", "کا", "ہدف"]
    assert norms("G7 4x4") == ["g7", "4x4"]  # Latin script: whole words


def test_spelling_marks_are_kept():
    # A virama or a kana voicing mark is spelling, not an optional accent.
    assert normalize_word("क्या") != normalize_word("कया")
    assert normalize_word("べ") != normalize_word("へ")
    assert unicodedata.normalize("NFC", normalize_word("café")) == "cafe"
