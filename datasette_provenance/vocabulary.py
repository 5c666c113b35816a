"""The one vocabulary the whole system shares: match labels, passage kinds, credit
kinds, and news agencies with the forms their names take.

Every stage and every page names these things the same way: the matcher writes the
labels, the pages show them, the evaluation scores them; cleaning finds the agencies,
lineage decides credit by them. Nothing here depends on any other module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ------------------------------------------------------------------------------ labels

# How one text relates to another, from most to least reuse: this is the order labels
# are shown in and ranked by (LABEL_RANK).
#   verbatim      - text copied with at most stray corrections;
#   light_edit    - copied, then edited word by word (most words kept);
#   paraphrase    - the source followed sentence by sentence, reworded;
#   shared_quotes - the only overlap is quotations of the same speakers;
#   independent   - separate reporting (possibly of the same story).
DERIVED_LABELS = ("verbatim", "light_edit", "paraphrase")
NOT_DERIVED_LABELS = ("shared_quotes", "independent")
LABELS = DERIVED_LABELS + NOT_DERIVED_LABELS
LABEL_RANK = {label: rank for rank, label in enumerate(LABELS)}

# How a label reads in running text and on the lineage graph ("light_edit" -> "light edit").
LABEL_WORDS = {label: label.replace("_", " ") for label in LABELS}
# How a label, or a segment's role in its story ("origin"), reads on its own, as a badge.
BADGE_WORDS = {**LABEL_WORDS, "verbatim": "verbatim copy", "origin": "origin"}

# Kinds of aligned passage: copied unchanged, copied with edits, reworded, quoted.
PASSAGE_KINDS = ("verbatim", "edited", "paraphrase", "quotation")

# ------------------------------------------------------------------------------ credits

# What cleaning records about where a text came from (``article_credits.kind``).
CREDIT_KINDS = (
    "wire_marker",  # "(Reuters)", "WASHINGTON (AP) -", "— AFP", "/ТАСС/"
    "photo_credit",  # "(Photo: Reuters)", "REUTERS/Name"
    "reporting_credit",  # "(Reporting by ...; editing by ...)"
    "dateline",  # "WASHINGTON, Sept 13", a line holding only a date
    "byline",  # "By Jane Doe"
    "signoff",  # initials closing a story ("TT")
    "copyright",  # "© 2023 Reuters", "Powered by ..."
    "attribution",  # a sentence naming an agency: "AFP reported", "told Reuters"
)
# Credit kinds that name where text or pictures came from: a derived text crediting
# its source's outlet in one of these is "credited".
CREDITING_KINDS = ("wire_marker", "photo_credit", "attribution", "reporting_credit", "copyright")

# ------------------------------------------------------------------------------ agencies

# Canonical name -> (distinctive names, short codes). Distinctive names count
# wherever they appear. Short codes are ordinary acronyms or words elsewhere (AP
# exams, UPI payments, the EPA, the Sputnik satellite, Michael Bloomberg), so they
# count only in a credit position or beside a reporting word. Latin names also
# match in capitals ("REUTERS/Name"); Cyrillic names also with case endings
# ("Интерфаксу"); Arabic names also with an attached preposition ("لرويترز").
# "TT" is not here: as a bare signature it is as often initials as the Swedish agency.
# fmt: off
AGENCIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Reuters": (("Reuters", "Thomson Reuters", "رويترز", "روئٹرز", "رائٹرز", "Рейтер", "Рейтерс",
                 "路透社", "路透", "ロイター", "로이터", "רויטרס"), ()),
    "AFP": (("AFP", "Agence France-Presse", "Agence France Presse", "France-Presse",
             "France Presse", "فرانس برس", "فرانس پریس", "أ ف ب", "اے ایف پی", "Франс Пресс",
             "Франс-Пресс", "法新社", "フランス通信", "프랑스통신"), ()),
    "AP": (("Associated Press", "أسوشيتد برس", "اسوشيتد برس", "ایسوسی ایٹڈ پریس",
            "Ассошиэйтед Пресс", "Ассошиэйтед пресс", "美联社", "美聯社", "AP通信"),
           ("AP", "АП", "اے پی")),
    "TASS": (("TASS", "ITAR-TASS", "Tass", "ТАСС", "ИТАР-ТАСС", "塔斯社"), ("تاس",)),
    "Xinhua": (("Xinhua", "新华社", "新華社", "شينخوا", "شنہوا", "Синьхуа", "신화통신"), ()),
    "Sputnik": (("Sputnik News",), ("Sputnik", "Спутник", "سبوتنيك")),
    "RIA Novosti": (("RIA Novosti", "RIA-Novosti", "РИА Новости", "ريا نوفوستي"), ("RIA", "РИА")),
    "Interfax": (("Interfax", "Интерфакс", "إنترفاكس"), ()),
    "Yonhap": (("Yonhap", "연합뉴스", "韩联社", "韓聯社", "聯合ニュース", "يونهاب", "Ёнхап"), ()),
    "KCNA": (("KCNA", "Korean Central News Agency", "조선중앙통신", "朝中社", "ЦТАК"), ()),
    "Kyodo": (("Kyodo", "共同社", "共同通信", "Киодо", "كيودو"), ()),
    "Jiji Press": (("Jiji Press", "時事通信"), ("Jiji",)),
    "Bloomberg": (("Bloomberg News", "彭博社"), ("Bloomberg", "بلومبرغ", "Блумберг")),
    "dpa": (("Deutsche Presse-Agentur",), ("dpa", "DPA")),
    "EFE": (("EFE", "Agencia EFE"), ("إفي",)),
    "ANSA": (("ANSA",), ()),
    "Anadolu": (("Anadolu Agency", "Anadolu Ajansı", "الأناضول", "Анадолу"), ("Anadolu",)),
    "PTI": (("Press Trust of India",), ("PTI",)),
    "ANI": (("Asian News International",), ("ANI",)),
    "IANS": (("IANS", "Indo-Asian News Service"), ()),
    "UPI": (("United Press International",), ("UPI",)),
    "AAP": (("Australian Associated Press",), ("AAP",)),
    "Canadian Press": (("The Canadian Press", "Canadian Press"), ()),
    "PA Media": (("PA Media", "Press Association"), ()),
    "EPA": (("European Pressphoto Agency",), ("EPA",)),
    "Getty Images": (("Getty Images",), ("Getty",)),
    "Antara": (("Antara News",), ("Antara",)),
    "Bernama": (("Bernama",), ()),
    "IRNA": (("IRNA", "ایرنا", "إرنا"), ()),
    "SANA": (("Syrian Arab News Agency",), ("SANA", "سانا")),
    "Ukrinform": (("Ukrinform", "Укрінформ", "Укрінформу"), ()),
    "UNIAN": (("UNIAN", "УНІАН", "УНИАН"), ()),
    "BelTA": (("BelTA", "БелТА"), ()),
    "Lusa": (("Agência Lusa",), ("Lusa",)),
    "Europa Press": (("Europa Press",), ()),
    "China News Service": (("China News Service", "中新社"), ()),
}
# fmt: on



@dataclass(frozen=True, slots=True)
class AgencyAlias:
    """One written form of an agency's name and how it may appear in text."""

    agency: str  # the canonical name
    weak: bool  # a short code: a credit only in a credit position or beside a reporting word
    arabic: bool  # may carry an attached preposition (ARABIC_CLITICS) on the left
    bounded: bool  # needs a word boundary on the left (not for CJK)


# Scripts written without spaces between words (kana, CJK ideographs, Hangul).
CJK_RANGES = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK_RANGES}]")
# Prepositions Arabic attaches to the next word: "لرويترز" = "to Reuters".
ARABIC_CLITICS = "وفبلك"


def script_of(char: str) -> str:
    """'arabic', 'cyrillic', 'cjk' or 'other': what decides how a name may be written."""
    if "\u0600" <= char <= "\u06ff":
        return "arabic"
    if "\u0400" <= char <= "\u04ff":
        return "cyrillic"
    if is_cjk(char):
        return "cjk"
    return "other"


def is_cjk(char: str) -> bool:
    return bool(_CJK_CHAR.match(char))


def _build_aliases() -> dict[str, AgencyAlias]:
    aliases: dict[str, AgencyAlias] = {}
    for agency, (strong, weak) in AGENCIES.items():
        for names, is_weak in ((strong, False), (weak, True)):
            for name in names:
                script = script_of(name[0])
                variants = [name]
                if script == "other" and not name.islower() and name.upper() != name:
                    variants.append(name.upper())  # "REUTERS/Name" photo credits
                for variant in variants:
                    aliases.setdefault(
                        variant, AgencyAlias(agency, is_weak, script == "arabic", script != "cjk")
                    )
    return aliases


# Every written form of every agency name -> how it may appear.
AGENCY_ALIASES = _build_aliases()
_CANONICAL = {name.casefold(): alias.agency for name, alias in AGENCY_ALIASES.items()}
_CANONICAL.update({agency.casefold(): agency for agency in AGENCIES})


def canonical_agency(name: str | None) -> str | None:
    """The canonical agency for a name ("Agence France-Presse" -> "AFP"), else ``None``."""
    if not name:
        return None
    return _CANONICAL.get(" ".join(name.split()).casefold())
