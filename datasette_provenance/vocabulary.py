"""The one vocabulary the whole system shares: match labels, passage kinds, credit
kinds and states, match relations, and news agencies with the forms their names take.

Every stage and every page names these things the same way: the matcher writes the
labels, the pages show them, the evaluation scores them; cleaning finds the agencies,
lineage decides credit by them. Nothing here depends on any other module.
"""

from __future__ import annotations

import re
import unicodedata
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

# What a credit found in an article's text says (``article_credits.kind``); the form it was
# written in is ``article_credits.form`` (see cleaning/credits.py).
WIRE_MARKER = "wire_marker"  # the agency's marker in a dateline or byline: "WASHINGTON (Reuters) -"
TEXT_CREDIT = "text_credit"  # a credit for the text: "— AFP", "Reuters contributed reporting"
ATTRIBUTION = "attribution"  # a sentence naming the source: "according to Reuters", "X reported"
PHOTO_CREDIT = "photo_credit"  # a photo or video credit: "(Photo: Reuters)", "REUTERS/Name"
OTHER_CREDIT = "other"  # a byline, dateline or sign-off naming no agency
CREDIT_KINDS = (WIRE_MARKER, TEXT_CREDIT, ATTRIBUTION, PHOTO_CREDIT, OTHER_CREDIT)
# Kinds that credit the text itself; a photo credit credits only the picture.
TEXT_CREDIT_KINDS = (WIRE_MARKER, TEXT_CREDIT, ATTRIBUTION)
# How a credit kind reads on a page.
CREDIT_KIND_WORDS = {
    WIRE_MARKER: "wire marker",
    TEXT_CREDIT: "text credit",
    ATTRIBUTION: "attribution",
    PHOTO_CREDIT: "photo credit",
    OTHER_CREDIT: "byline or dateline",
}

# Whether a copy credits where its text comes from (``matches.credit``, ``lineage.credit``).
CREDITED = "credited"
PHOTO_ONLY = "photo_only"  # names the source only in a photo or video credit
UNCREDITED = "uncredited"
CREDIT_STATES = (CREDITED, PHOTO_ONLY, UNCREDITED)
NOT_CREDITED_STATES = (UNCREDITED, PHOTO_ONLY)  # the text is not credited
CREDIT_STATE_WORDS = {
    CREDITED: "credited",
    PHOTO_ONLY: "credits only a photo",
    UNCREDITED: "uncredited",
}

# How the two sides of a derived match relate in the lineage (``matches.relation``).
COPY = "copy"  # the derived side copies the source, directly or through other versions
SIBLINGS = "siblings"  # both copy a third version; neither took text only the other has
RELATIONS = (COPY, SIBLINGS)

# ------------------------------------------------------------------------------ agencies

# One row per agency: canonical name (stored in ``article_credits.agency``), full name,
# country, and its forms in the scripts it publishes in or is credited in:
#   names   - distinctive forms: they count wherever they appear (a credit line, a
#             marker, or a sentence, where they are an attribution: "told Reuters");
#   codes   - short codes that are also ordinary acronyms ("AP" exams, the "PTI" party,
#             "AAP" the Aam Aadmi Party, "APA" style): they count in a credit position
#             (a marker, credit line or photo credit) or beside an unambiguous reporting
#             word ("told AP", "according to PTI", "AP reported"; not "said": parties and
#             companies say things too);
#   markers - ordinary words ("Online", "آن لائن" = online, "वार्ता" = talks, "قنا" =
#             canal, "MENA" the region): they count only inside a credit marker - a
#             parenthesis or slash marker, a dateline, a sign-off or a line of its own;
#   photo   - forms that are a credit only in a photo credit ("PA" is also Pennsylvania);
#   domains - the agency's web domains.
# Arabic-script forms also match with Persian/Urdu letters (ی for ي, ک for ك) and the
# other way round, and with a space, a zero-width non-joiner or nothing where the form has
# one of them; Latin names also in capitals ("REUTERS/Name"); Cyrillic ones with case
# endings ("Интерфаксу"); Arabic ones with an attached preposition ("لرويترز"). A code may
# stand for several agencies ("SANA": Syria's agency and Pakistan's Sana News): two names
# are the same agency when the agencies they can stand for meet. "TT" is not here: as a
# bare signature it is as often initials as the Swedish agency.


@dataclass(frozen=True)
class Agency:
    name: str  # canonical, as stored in article_credits.agency
    full_name: str
    country: str
    names: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    photo: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


# Strength of a form, strongest first (see above).
NAME, CODE, MARKER, PHOTO = "name", "code", "marker", "photo"
STRENGTHS = (NAME, CODE, MARKER, PHOTO)

# fmt: off
AGENCIES = (
    # -- global wires
    Agency("Reuters", "Reuters", "United Kingdom",
           names=("Reuters", "Thomson Reuters", "رويترز", "روئٹرز", "رائٹرز", "Рейтер", "Рейтерс",
                  "路透社", "路透", "ロイター", "로이터", "רויטרס", "रॉयटर्स", "रायटर्स", "Ρόιτερς"),
           domains=("reuters.com",)),
    Agency("AFP", "Agence France-Presse", "France",
           names=("AFP", "Agence France-Presse", "Agence France Presse", "France-Presse",
                  "France Presse", "فرانس برس", "فرانس پریس", "خبرگزاری فرانسه", "أ ف ب",
                  "اے ایف پی", "Франс Пресс", "Франс-Пресс", "法新社", "フランス通信", "프랑스통신",
                  "एएफपी"),
           domains=("afp.com",)),
    Agency("AP", "The Associated Press", "United States",
           names=("Associated Press", "أسوشيتد برس", "اسوشيتد برس", "ایسوسی ایٹڈ پریس",
                  "آسوشیتدپرس", "Ассошиэйтед Пресс", "Ассошиэйтед пресс", "美联社", "美聯社",
                  "AP通信", "AP통신", "एसोसिएटेड प्रेस"),
           codes=("AP", "АП", "اے پی", "एपी"),
           markers=("أ ب",),
           domains=("apnews.com", "ap.org")),
    Agency("dpa", "Deutsche Presse-Agentur", "Germany",
           names=("Deutsche Presse-Agentur", "德新社"),
           codes=("dpa", "DPA"),
           markers=("د ب أ",),
           domains=("dpa.com",)),
    Agency("EFE", "Agencia EFE", "Spain",
           names=("EFE", "Agencia EFE", "埃菲社"),
           codes=("إفي", "إيفي"),
           domains=("efe.com",)),
    Agency("ANSA", "Agenzia Nazionale Stampa Associata", "Italy",
           names=("ANSA", "安莎社"),
           codes=("أنسا", "АНСА"),
           domains=("ansa.it",)),
    Agency("Xinhua", "Xinhua News Agency", "China",
           names=("Xinhua", "新华社", "新華社", "شينخوا", "شنہوا", "شین‌هوا", "Синьхуа", "신화통신",
                  "शिन्हुआ"),
           domains=("xinhuanet.com", "news.cn")),
    Agency("TASS", "TASS Russian News Agency", "Russia",
           names=("TASS", "ITAR-TASS", "Tass", "ТАСС", "ИТАР-ТАСС", "塔斯社", "タス通信", "타스통신"),
           codes=("تاس",),
           domains=("tass.ru", "tass.com")),
    Agency("RIA Novosti", "RIA Novosti", "Russia",
           names=("RIA Novosti", "RIA-Novosti", "РИА Новости", "ريا نوفوستي", "俄新社", "리아노보스티"),
           codes=("RIA", "РИА"),
           domains=("ria.ru",)),
    Agency("Interfax", "Interfax", "Russia",
           names=("Interfax", "Интерфакс", "Інтерфакс", "إنترفاكس", "国际文传电讯社", "インタファクス"),
           domains=("interfax.ru", "interfax.com", "interfax.com.ua")),
    Agency("Sputnik", "Sputnik", "Russia",
           names=("Sputnik News",), codes=("Sputnik", "Спутник", "سبوتنيك"),
           domains=("sputniknews.com",)),
    Agency("Kyodo", "Kyodo News", "Japan",
           names=("Kyodo", "共同通信", "共同社", "교도통신", "Киодо", "كيودو"),
           domains=("kyodonews.net",)),
    Agency("Jiji Press", "Jiji Press", "Japan",
           names=("Jiji Press", "時事通信"), codes=("Jiji",), domains=("jiji.com",)),
    Agency("Yonhap", "Yonhap News Agency", "South Korea",
           names=("Yonhap", "연합뉴스", "韩联社", "韓聯社", "聯合ニュース", "Ёнхап", "يونهاب"),
           domains=("yna.co.kr", "en.yna.co.kr")),
    Agency("KCNA", "Korean Central News Agency", "North Korea",
           names=("KCNA", "Korean Central News Agency", "조선중앙통신", "朝中社", "ЦТАК"),
           domains=("kcna.kp",)),
    Agency("Anadolu", "Anadolu Agency", "Turkey",
           names=("Anadolu Agency", "Anadolu Ajansı", "وكالة الأناضول", "الأناضول", "Анадолу"),
           codes=("Anadolu",), markers=("AA",), domains=("aa.com.tr",)),
    # -- South Asia
    Agency("PTI", "Press Trust of India", "India",
           names=("Press Trust of India", "पीटीआई-भाषा"),
           codes=("PTI", "पीटीआई"),
           # "پی ٹی آئی" is first of all the Pakistani party; "भाषा" (language) is PTI's
           # Hindi service in datelines: "नयी दिल्ली, 5 मई (भाषा)".
           markers=("پی ٹی آئی", "भाषा"),
           domains=("ptinews.com",)),
    Agency("IANS", "Indo-Asian News Service", "India",
           names=("IANS", "Indo-Asian News Service", "आईएएनएस"), domains=("ians.in",)),
    Agency("ANI", "Asian News International", "India",
           names=("Asian News International",), codes=("ANI", "एएनआई"), domains=("aninews.in",)),
    Agency("UNI", "United News of India", "India",
           names=("United News of India", "यूनीवार्ता"),
           codes=("UNI", "यूएनआई", "یو این آئی"),
           markers=("वार्ता",),  # UNI's Hindi service; the word means "talks"
           domains=("uniindia.com",)),
    Agency("APP", "Associated Press of Pakistan", "Pakistan",
           names=("Associated Press of Pakistan", "اے پی پی"), codes=("APP",),
           domains=("app.com.pk",)),
    Agency("INP", "Independent News Pakistan", "Pakistan",
           names=("آئی این پی",), codes=("INP",)),
    Agency("NNI", "News Network International", "Pakistan",
           names=("این این آئی",), codes=("NNI",)),
    Agency("INN", "International News Network", "Pakistan",
           names=("آئی این این",), codes=("INN",)),
    Agency("Sana News", "Sana News Agency", "Pakistan",
           names=("ثناء نیوز", "Sana News"), codes=("SANA",)),
    Agency("Online", "Online news agency", "Pakistan", markers=("Online", "آن لائن")),
    # -- Gulf and Middle East
    Agency("WAM", "Emirates News Agency", "United Arab Emirates",
           names=("Emirates News Agency", "وكالة أنباء الإمارات"), codes=("WAM",),
           markers=("وام",), domains=("wam.ae",)),
    Agency("SPA", "Saudi Press Agency", "Saudi Arabia",
           names=("Saudi Press Agency", "وكالة الأنباء السعودية"), codes=("SPA",),
           markers=("واس",), domains=("spa.gov.sa",)),
    Agency("QNA", "Qatar News Agency", "Qatar",
           names=("Qatar News Agency", "وكالة الأنباء القطرية"), codes=("QNA",),
           markers=("قنا",), domains=("qna.org.qa",)),
    Agency("KUNA", "Kuwait News Agency", "Kuwait",
           names=("Kuwait News Agency", "وكالة الأنباء الكويتية"), codes=("KUNA",),
           markers=("كونا",), domains=("kuna.net.kw",)),
    Agency("MENA", "Middle East News Agency", "Egypt",
           names=("Middle East News Agency", "وكالة أنباء الشرق الأوسط"),
           markers=("MENA", "أ ش أ"), domains=("mena.org.eg",)),
    Agency("SANA", "Syrian Arab News Agency", "Syria",
           names=("Syrian Arab News Agency", "الوكالة العربية السورية للأنباء"),
           codes=("SANA", "سانا"), domains=("sana.sy",)),
    Agency("IRNA", "Islamic Republic News Agency", "Iran",
           names=("IRNA", "ایرنا", "إرنا"), domains=("irna.ir",)),
    # -- Southeast Asia and Oceania
    Agency("Bernama", "Pertubuhan Berita Nasional Malaysia", "Malaysia",
           names=("Bernama",), domains=("bernama.com",)),  # capital B: "bernama" is Malay for "named"
    Agency("Antara", "Antara News Agency", "Indonesia",
           names=("Antara News",), codes=("Antara", "ANTARA"),  # "Antara lain" opens sentences
           domains=("antaranews.com",)),
    Agency("AAP", "Australian Associated Press", "Australia",
           names=("Australian Associated Press",), codes=("AAP",), domains=("aap.com.au",)),
    # -- the Americas
    Agency("Canadian Press", "The Canadian Press", "Canada",
           names=("The Canadian Press", "Canadian Press"), markers=("CP",),
           domains=("thecanadianpress.com",)),
    Agency("UPI", "United Press International", "United States",
           names=("United Press International",), codes=("UPI",), domains=("upi.com",)),
    Agency("Bloomberg", "Bloomberg News", "United States",
           names=("Bloomberg News", "彭博社"), codes=("Bloomberg", "بلومبرغ", "Блумберг"),
           domains=("bloomberg.com",)),
    # -- Europe
    Agency("PA Media", "PA Media", "United Kingdom",
           names=("PA Media", "Press Association", "PA news agency", "PA Wire"), photo=("PA",),
           domains=("pamediagroup.com",)),
    Agency("Ukrinform", "Ukrinform", "Ukraine",
           names=("Ukrinform", "Укрінформ", "Укринформ"), domains=("ukrinform.ua", "ukrinform.net")),
    Agency("UNIAN", "UNIAN", "Ukraine", names=("UNIAN", "УНІАН", "УНИАН"), domains=("unian.ua",)),
    Agency("BelTA", "Belarusian Telegraph Agency", "Belarus", names=("BelTA", "БелТА"),
           domains=("belta.by",)),
    Agency("Belga", "Belga News Agency", "Belgium", names=("Belga", "Agence Belga"),
           domains=("belga.be",)),
    Agency("APA", "Austria Presse Agentur", "Austria",
           names=("Austria Presse Agentur", "APA-Foto"), codes=("APA",), domains=("apa.at",)),
    Agency("APA Azerbaijan", "Azeri-Press Agency", "Azerbaijan",
           names=("Azeri-Press Agency", "Azeri Press Agency"), codes=("APA",),
           domains=("apa.az",)),
    Agency("Lusa", "Agência Lusa", "Portugal", names=("Agência Lusa",), codes=("Lusa",),
           domains=("lusa.pt",)),
    Agency("Europa Press", "Europa Press", "Spain", names=("Europa Press",),
           domains=("europapress.es",)),
    Agency("China News Service", "China News Service", "China",
           names=("China News Service", "中新社"), domains=("chinanews.com.cn",)),
    # -- picture agencies (credited for photos, sometimes for text)
    Agency("EPA", "European Pressphoto Agency", "Germany",
           names=("European Pressphoto Agency",), codes=("EPA",), domains=("epa.eu",)),
    Agency("Getty Images", "Getty Images", "United States", names=("Getty Images",),
           codes=("Getty",), domains=("gettyimages.com",)),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class AgencyAlias:
    """One written form of an agency's name and how it may appear in text."""

    agency: str  # what a credit stores: the canonical name, or the code for a shared one
    strength: str  # NAME, CODE, MARKER or PHOTO
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
    for spelling, (strength, agencies) in agency_forms().items():
        script = script_of(spelling[0])
        aliases[spelling] = AgencyAlias(
            stored_agency_name(agencies, spelling), strength, script == "arabic", script != "cjk"
        )
    return aliases


_ARABIC_TO_PERSIAN = str.maketrans({"ي": "ی", "ك": "ک"})
_PERSIAN_TO_ARABIC = str.maketrans({"ی": "ي", "ک": "ك"})
_ZWNJ = "\u200c"


def form_variants(form: str) -> list[str]:
    """The spellings one form is matched in (the form first)."""
    variants = [form]
    if any("\u0600" <= char <= "\u06ff" for char in form):
        for spelling in (form.translate(_ARABIC_TO_PERSIAN), form.translate(_PERSIAN_TO_ARABIC)):
            variants.append(spelling)
            if _ZWNJ in spelling:
                variants += [spelling.replace(_ZWNJ, " "), spelling.replace(_ZWNJ, "")]
    elif form.isascii() and not form.islower() and form.upper() != form:
        variants.append(form.upper())  # "REUTERS/Name" photo credits
    return list(dict.fromkeys(variants))


def agency_forms() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every spelling -> (its strength, the agencies it can stand for). A spelling listed
    for several agencies ("SANA", "APA") stands for all of them, at its strongest use."""
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    for agency in AGENCIES:
        for strength, forms in (
            (NAME, agency.names),
            (CODE, agency.codes),
            (MARKER, agency.markers),
            (PHOTO, agency.photo),
        ):
            for form in forms:
                for variant in form_variants(form):
                    old_strength, old_agencies = found.get(variant, (strength, ()))
                    stronger = min(old_strength, strength, key=STRENGTHS.index)
                    if agency.name not in old_agencies:
                        old_agencies += (agency.name,)
                    found[variant] = (stronger, old_agencies)
    return found


def stored_agency_name(agencies: tuple[str, ...], spelling: str) -> str:
    """What a credit stores as its agency: the one agency a spelling stands for, or, for a
    code several agencies use ("SANA"), the code itself (which stands for all of them)."""
    return agencies[0] if len(agencies) == 1 else spelling


def _key(name: str) -> str:
    """Names compared: NFKC, case and spacing folded, Arabic-script letters folded."""
    folded = unicodedata.normalize("NFKC", name).translate(_PERSIAN_TO_ARABIC)
    return " ".join(folded.replace(_ZWNJ, " ").split()).casefold()


def _build_keys() -> dict[str, frozenset[str]]:
    keys: dict[str, set[str]] = {}
    for agency in AGENCIES:
        spellings = (agency.name, agency.full_name, *agency.names, *agency.codes, *agency.markers,
                     *agency.photo, *agency.domains)  # fmt: skip
        for spelling in spellings:
            keys.setdefault(_key(spelling), set()).add(agency.name)
    return {key: frozenset(names) for key, names in keys.items()}


# Every written form of every agency name -> how it may appear.
AGENCY_ALIASES = _build_aliases()
_AGENCY_KEYS = _build_keys()


def agency_keys(name: str | None) -> frozenset[str]:
    """The agencies a name can stand for ("Agence France-Presse" -> {"AFP"}; "SANA" -> Syria's
    SANA and Pakistan's Sana News); empty when it names no known agency."""
    if not name:
        return frozenset()
    return _AGENCY_KEYS.get(_key(name), frozenset())


def canonical_agency(name: str | None) -> str | None:
    """The canonical agency for a name ("Agence France-Presse" -> "AFP"), else ``None``.
    A code several agencies use gives the first of them in the table."""
    keys = agency_keys(name)
    if not keys:
        return None
    return next(agency.name for agency in AGENCIES if agency.name in keys)


def same_source(first: str | None, second: str | None) -> bool:
    """Same outlet or agency, spelled either way ("Agence France-Presse" = "AFP",
    "SANA" = "ثناء نیوز", "The Daily Example" = "the daily  example")."""
    if not first or not second:
        return False
    first_keys, second_keys = agency_keys(first), agency_keys(second)
    if first_keys or second_keys:
        return bool(first_keys & second_keys)
    return _key(first) == _key(second)
