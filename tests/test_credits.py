"""Credits: what kind each credit is, agencies in every script they publish in, and the
ordinary words that look like agency codes but are not credits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasette_provenance import vocabulary
from datasette_provenance.cleaning import clean_article

BODY = "Officials met for several hours on Monday and agreed to meet again next month."


def kinds(text: str) -> list[tuple[str, str, str | None, str]]:
    """(kind, form, agency, text) of every credit naming an agency or credit line."""
    return [(c.kind, c.form, c.agency, c.text) for c in clean_article(text).credits]


def agencies(text: str) -> list[tuple[str, str | None]]:
    """(kind, agency) of the credits that name an agency."""
    return [(c.kind, c.agency) for c in clean_article(text).credits if c.agency]


# --------------------------------------------------------------------------- kinds and forms


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "WASHINGTON (Reuters) - " + BODY,
            [("other", "dateline", None, "WASHINGTON"),
             ("wire_marker", "dateline", "Reuters", "(Reuters)")],
        ),
        ("(Reuters)\n\n" + BODY, [("wire_marker", "line", "Reuters", "(Reuters)")]),
        (BODY + "\n\n(Reuters)", [("text_credit", "sign_off", "Reuters", "(Reuters)")]),
        (BODY + " — AFP", [("text_credit", "sign_off", "AFP", "— AFP")]),
        (BODY + " (AFP)", [("text_credit", "sign_off", "AFP", "(AFP)")]),
        (BODY + " With AFP", [("text_credit", "with", "AFP", "With AFP")]),
        (
            BODY + "\n\n(Reporting by Jane Doe; Editing by John Roe)",
            [("text_credit", "reporting", None, "(Reporting by Jane Doe; Editing by John Roe)")],
        ),
        (
            BODY + "\n\nReuters contributed reporting.",
            [("text_credit", "reporting", "Reuters", "Reuters contributed reporting.")],
        ),
        (
            BODY + "\n\n© 2023 Reuters. All rights reserved.",
            [("text_credit", "copyright", "Reuters", "© 2023 Reuters. All rights reserved.")],
        ),
        ("Photo: Reuters", [("photo_credit", "line", "Reuters", "Photo: Reuters")]),
        ("Video: AFP", [("photo_credit", "video", "AFP", "Video: AFP")]),
        (
            "Kim waves from his train in Vladivostok. REUTERS/Kevin Lamarque",
            [("photo_credit", "photographer", "Reuters", "REUTERS/Kevin Lamarque")],
        ),
        (
            "Kim and Putin shake hands, in this photo released on Sept 13. (Photo: KCNA)",
            [("photo_credit", "parenthesis", "KCNA", "(Photo: KCNA)")],
        ),
        (
            "Putin greets Kim at the cosmodrome. (Video: Reuters)",
            [("photo_credit", "video", "Reuters", "(Video: Reuters)")],
        ),
        ("A senior official told Reuters on Tuesday.", [("attribution", "sentence", "Reuters", "Reuters")]),
        ("By Jane Doe, Reuters", [("wire_marker", "byline", "Reuters", "By Jane Doe, Reuters")]),
        ("By Jane Doe", [("other", "byline", None, "By Jane Doe")]),
        ("TT", [("other", "signoff", None, "TT")]),
        ("МОСКВА, 13 сентября. /ТАСС/. " + BODY,
         [("other", "dateline", None, "МОСКВА, 13 сентября"),
          ("wire_marker", "dateline", "TASS", "/ТАСС/")]),
    ],
)
def test_credit_kind_and_form(text, expected):
    assert kinds(text) == expected


def test_every_kind_is_in_the_vocabulary():
    texts = [
        "WASHINGTON (Reuters) - " + BODY, BODY + " — AFP", "Photo: Reuters",
        "A senior official told Reuters on Tuesday.", "TT",
    ]
    found = {credit.kind for text in texts for credit in clean_article(text).credits}
    assert found == set(vocabulary.CREDIT_KINDS)
    assert set(vocabulary.TEXT_CREDIT_KINDS) < found


# --------------------------------------------------------------------------- every script


@pytest.mark.parametrize(
    "text, expected",
    [
        # Urdu datelines, as Pakistani papers print them (with and without a space)
        ("اسلام آباد (اے پی پی) وزیر اعظم نے آج کابینہ کے اجلاس کی صدارت کی۔",
         [("wire_marker", "APP")]),
        ("لاہور(اے پی پی )پنجاب حکومت نے نئی تعلیمی پالیسی کا اعلان کر دیا ہے۔",
         [("wire_marker", "APP")]),
        ("کراچی (آئی این پی) شہر میں بارش کے بعد بجلی کی فراہمی معطل رہی۔", [("wire_marker", "INP")]),
        ("پشاور (این این آئی) صوبائی اسمبلی کا اجلاس کل ہوگا۔", [("wire_marker", "NNI")]),
        ("ملتان (ثناء نیوز) کسانوں نے گندم کی قیمت پر احتجاج کیا۔", [("wire_marker", "Sana News")]),
        ("کوئٹہ (آن لائن) صوبے میں سردی کی شدت میں اضافہ ہو گیا۔", [("wire_marker", "Online")]),
        ("اسلام آباد (آئی این پی+ آن لائن) اجلاس میں اہم فیصلے کیے گئے۔",
         [("wire_marker", "INP"), ("wire_marker", "Online")]),
        ("لاہور (ثناء نیوز،آن لائن ) ٹیم نے میچ جیت لیا۔",
         [("wire_marker", "Sana News"), ("wire_marker", "Online")]),
        ("دبئی (اے ایف پی/اسپورٹس ڈیسک) ٹیم نے فائنل میں جگہ بنا لی۔", [("wire_marker", "AFP")]),
        ("روئٹرز کے مطابق دونوں رہنماؤں نے فوجی تعاون پر بات کی۔", [("attribution", "Reuters")]),
        # Hindi: PTI and its Hindi service, UNI's
        ("नयी दिल्ली, पांच मई (भाषा) सरकार ने नई योजना की घोषणा की।", [("wire_marker", "PTI")]),
        ("मुंबई (वार्ता) शेयर बाजार में आज तेजी रही।", [("wire_marker", "UNI")]),
        ("एक अधिकारी ने पीटीआई को बताया कि बैठक सफल रही।", [("attribution", "PTI")]),
        ("रॉयटर्स के मुताबिक बातचीत कई घंटे चली।", [("attribution", "Reuters")]),
        # Arabic abbreviations and Gulf agencies
        ("برلين (د ب أ) - قال مسؤولون إن المحادثات انتهت.", [("wire_marker", "dpa")]),
        ("القاهرة (أ ش أ) - أعلنت الحكومة خطة جديدة.", [("wire_marker", "MENA")]),
        ("الرياض (واس) - استقبل ولي العهد الوفد.", [("wire_marker", "SPA")]),
        ("الدوحة (قنا) - بحث الجانبان التعاون.", [("wire_marker", "QNA")]),
        ("الكويت (كونا) - أعلنت الوزارة النتائج.", [("wire_marker", "KUNA")]),
        ("أبوظبي (وام) - افتتح المعرض اليوم.", [("wire_marker", "WAM")]),
        # Persian letters and names
        ("به گزارش خبرگزاری فرانسه، مذاکرات ادامه دارد.", [("attribution", "AFP")]),
        ("رویترز گزارش داد که مذاکرات ادامه دارد.", [("attribution", "Reuters")]),
        # Cyrillic, CJK, Korean
        ("По данным агентства Интерфакс, переговоры продолжатся.", [("attribution", "Interfax")]),
        ("КИЕВ, 5 мая. /Укринформ/. Переговоры продолжатся.", [("wire_marker", "Ukrinform")]),
        ("新华社北京5月5日电 会谈在北京举行。", [("wire_marker", "Xinhua")]),
        ("共同通信によると、会談は数時間続いた。", [("attribution", "Kyodo")]),
        ("연합뉴스에 따르면 회담은 몇 시간 동안 계속됐다.", [("attribution", "Yonhap")]),
        # Latin codes in credit positions
        ("ANKARA (AA) - " + BODY, [("wire_marker", "Anadolu")]),
        ("OTTAWA (CP) — " + BODY, [("wire_marker", "Canadian Press")]),
        ("KUALA LUMPUR, May 5 (Bernama) -- " + BODY, [("wire_marker", "Bernama")]),
        ("JAKARTA (ANTARA) - " + BODY, [("wire_marker", "Antara")]),
        ("SYDNEY, May 5 AAP - " + BODY, []),  # no marker punctuation: not a credit position
        ("SYDNEY (AAP) - " + BODY, [("wire_marker", "AAP")]),
        ("BRUSSELS (Belga) - " + BODY, [("wire_marker", "Belga")]),
        ("VIENNA (APA) - " + BODY, [("wire_marker", "APA")]),
        ("DAMASCUS (SANA) - " + BODY, [("wire_marker", "SANA")]),
        ("ISLAMABAD (APP) - " + BODY, [("wire_marker", "APP")]),
        ("ISLAMABAD (Online) - " + BODY, [("wire_marker", "Online")]),
        ("The minister told PTI that talks went well.", [("attribution", "PTI")]),
        ("An official told ANI the meeting was cancelled.", [("attribution", "ANI")]),
        ("Police said the man was arrested. (PA)", []),  # PA credits photos only
        ("Fans cheer at Wembley on Saturday. Photo: PA", [("photo_credit", "PA Media")]),
    ],
)
def test_agencies_in_every_script(text, expected):
    assert agencies(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Online classes resumed on Monday across the province after the floods.",
        "Online",  # a menu entry on its own line
        "He shops online every day (online) and rarely goes out.",
        "Thousands of students took AP exams this year.",
        "PTI chief Imran Khan said the party would protest on Friday.",
        "The rally was organised by PTI workers in the city.",
        "Thousands voted for PTI in the by-election.",
        "PTI said it would challenge the result in court.",
        "AAP leader Arvind Kejriwal said the party would win Delhi.",
        "The paper follows APA style for its references.",
        "Growth in the MENA region slowed last year.",
        "She booked a SPA treatment for Saturday.",
        "Antara lain, pemerintah akan membangun jalan baru.",
        "Seorang pria bernama Ali datang ke kantor polisi.",
        "Harrisburg (PA) — The governor signed the budget on Friday.",
        "Michael Bloomberg said he would fund the campaign.",
        "Payments over UPI rose again in August.",
        "آن لائن کلاسز کا آغاز ہو گیا ہے اور طلبہ خوش ہیں۔",
        "پی ٹی آئی کے رہنما نے کہا کہ احتجاج جاری رہے گا۔",
        "زار المحافظ مدينة قنا أمس.",
        "पुस्तक की भाषा बहुत सरल है।",
        "दोनों देशों के बीच वार्ता जारी है।",
        "Schools stayed shut. With Online classes running, pupils studied at home.",
    ],
)
def test_ordinary_words_are_not_credits(text):
    assert agencies(text) == []
    assert clean_article(text).clean_text == text.strip()


def test_agency_names_in_every_script_stand_for_one_agency():
    assert vocabulary.canonical_agency("Associated Press of Pakistan") == "APP"
    assert vocabulary.canonical_agency("اے پی پی") == "APP"
    assert vocabulary.canonical_agency("رویترز") == "Reuters"  # Persian letters
    assert vocabulary.canonical_agency("Agence France-Presse") == "AFP"
    assert vocabulary.canonical_agency("The Daily Example") is None
    assert vocabulary.same_source("SANA", "ثناء نیوز")  # a code two agencies use
    assert vocabulary.same_source("SANA", "Syrian Arab News Agency")
    assert not vocabulary.same_source("Syrian Arab News Agency", "ثناء نیوز")
    assert not vocabulary.same_source("AP", "APP")
    assert vocabulary.same_source("The Daily Example", " the daily  example ")
    assert vocabulary.agency_keys("apnews.com") == {"AP"}


def test_the_table_has_every_agency_the_issue_lists():
    listed = (
        "AFP AP Reuters dpa EFE ANSA Xinhua TASS Interfax Kyodo Yonhap Anadolu PTI IANS ANI "
        "UNI APP INP NNI Online WAM SPA QNA KUNA MENA Bernama Antara AAP Ukrinform Belga APA"
    ).split() + ["RIA Novosti", "SANA", "Sana News", "Canadian Press", "PA Media"]
    names = {agency.name for agency in vocabulary.AGENCIES}
    assert set(listed) <= names
    assert len(names) == len(vocabulary.AGENCIES)  # canonical names are unique


# Words credits are made of, shuffled into texts: every cleaning rule meets every other.
CREDIT_WORDS = [
    "With", "with", "inputs", "from", "Reuters", "AFP", "AP", "APP", "اے پی پی", "(آن لائن)",
    "Online", "PTI", "PA", "told", "according", "to", "reported", "Photo:", "Video:", "REUTERS/",
    "By", "Jane", "Doe", "—", "-", "/", "(", ")", ".", ",", ":", "Reporting", "by", "©", "2023",
    "MOSCOW", "Sept", "13", "/ТАСС/", "新华社北京9月13日电", "据路透社报道", "said", "the", "talks",
    "\n", "\n\n", " ",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CREDIT_WORDS), max_size=40))
def test_credit_rules_never_fail_on_any_mix_of_credit_words(words):
    text = " ".join(words)
    result = clean_article(text)
    for credit in result.credits:
        assert credit.kind in vocabulary.CREDIT_KINDS
        assert credit.text == text[credit.start : credit.end]
