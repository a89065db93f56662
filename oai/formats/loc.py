"""Library of Congress vocabularies shared by the MODS and MARC 21 crosswalks: ISO 639-2/B
language codes (both formats code languages that way, not as BCP 47 tags), MARC relator
codes for the record model's roles, non-filing leading articles, and licence labels."""

from __future__ import annotations

import re


def _words(text: str) -> list[str]:
    return text.split()


# ISO 639-1 (two letters, as BCP 47 primary subtags) -> ISO 639-2/B (MARC Code List for
# Languages). The bibliographic codes differ from the terminology ones for 20 languages
# (fre/fra, ger/deu, ...): MARC and MODS authority="iso639-2b" use the B forms.
_ISO639_1 = _words(
    "aa aar ab abk ae ave af afr ak aka am amh an arg ar ara as asm av ava ay aym az aze "
    "ba bak be bel bg bul bh bih bi bis bm bam bn ben bo tib br bre bs bos ca cat ce che "
    "ch cha co cos cr cre cs cze cu chu cv chv cy wel da dan de ger dv div dz dzo ee ewe "
    "el gre en eng eo epo es spa et est eu baq fa per ff ful fi fin fj fij fo fao fr fre "
    "fy fry ga gle gd gla gl glg gn grn gu guj gv glv ha hau he heb hi hin ho hmo hr hrv "
    "ht hat hu hun hy arm hz her ia ina id ind ie ile ig ibo ii iii ik ipk io ido is ice "
    "it ita iu iku ja jpn jv jav ka geo kg kon ki kik kj kua kk kaz kl kal km khm kn kan "
    "ko kor kr kau ks kas ku kur kv kom kw cor ky kir la lat lb ltz lg lug li lim ln lin "
    "lo lao lt lit lu lub lv lav mg mlg mh mah mi mao mk mac ml mal mn mon mr mar ms may "
    "mt mlt my bur na nau nb nob nd nde ne nep ng ndo nl dut nn nno no nor nr nbl nv nav "
    "ny nya oc oci oj oji om orm or ori os oss pa pan pi pli pl pol ps pus pt por qu que "
    "rm roh rn run ro rum ru rus rw kin sa san sc srd sd snd se sme sg sag si sin sk slo "
    "sl slv sm smo sn sna so som sq alb sr srp ss ssw st sot su sun sv swe sw swa ta tam "
    "te tel tg tgk th tha ti tir tk tuk tl tgl tn tsn to ton tr tur ts tso tt tat tw twi "
    "ty tah ug uig uk ukr ur urd uz uzb ve ven vi vie vo vol wa wln wo wol xh xho yi yid "
    "yo yor za zha zh chi zu zul "
)
ISO639_1_TO_2B: dict[str, str] = dict(zip(_ISO639_1[::2], _ISO639_1[1::2], strict=True))

# ISO 639-2/T -> /B where they differ (a record may carry a three-letter T code).
_T_TO_B = _words(
    "sqi alb hye arm eus baq mya bur zho chi ces cze nld dut fra fre kat geo deu ger ell "
    "gre isl ice mkd mac mri mao msa may fas per ron rum slk slo bod tib cym wel "
)
ISO639_2T_TO_2B: dict[str, str] = dict(zip(_T_TO_B[::2], _T_TO_B[1::2], strict=True))

_THREE_LETTERS = re.compile(r"^[a-z]{3}$")


def iso639_2b(tag: str) -> str | None:
    """The MARC (ISO 639-2/B) code of a BCP 47 language tag's primary subtag, or None when
    there is none (an unknown two-letter code, or a longer subtag)."""
    primary = tag.split("-", 1)[0].lower()
    if len(primary) == 2:
        return ISO639_1_TO_2B.get(primary)
    if _THREE_LETTERS.match(primary):
        return ISO639_2T_TO_2B.get(primary, primary)
    return None


# The record model's contributor roles -> (MARC relator code, relator term).
RELATORS: dict[str, tuple[str, str]] = {
    "author": ("aut", "author"),
    "editor": ("edt", "editor"),
    "supervisor": ("ths", "thesis advisor"),
    "examiner": ("opn", "opponent"),
    "translator": ("trl", "translator"),
    "data_collector": ("dtc", "data contributor"),
    "data_curator": ("dtm", "data manager"),
    "project_leader": ("pdr", "project director"),
    "researcher": ("res", "researcher"),
    "sponsor": ("spn", "sponsor"),
    "other": ("oth", "other"),
    "funder": ("fnd", "funder"),
    "degree_granting": ("dgg", "degree granting institution"),
    "publisher": ("pbl", "publisher"),
    "conference": ("ctb", "contributor"),
}

RELATOR_SCHEME = "http://id.loc.gov/vocabulary/relators"

# Leading articles skipped in filing, by language (MARC 245 second indicator, MODS nonSort).
_ARTICLES: dict[str, tuple[str, ...]] = {
    "en": ("The ", "An ", "A "),
    "fr": ("Les ", "Le ", "La ", "L'", "Un ", "Une "),
    "de": ("Der ", "Die ", "Das ", "Ein ", "Eine "),
    "es": ("Los ", "Las ", "El ", "La ", "Un ", "Una "),
    "it": ("Gli ", "Il ", "Lo ", "La ", "L'", "Un ", "Una "),
    "nl": ("De ", "Het ", "Een "),
    "cy": ("Yr ", "Y "),
}


def nonfiling(title: str, lang: str | None) -> int:
    """How many leading characters of `title` a filing index skips (0-9): the length of a
    leading article of the title's language (English when the title has no language)."""
    primary = (lang or "en").split("-", 1)[0].lower()
    for article in _ARTICLES.get(primary, ()):
        if title.startswith(article) and len(title) > len(article):
            return len(article)
    return 0


_CC = re.compile(r"^https?://creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/([0-9.]+)?")
_CC_NAMES = {"by": "Attribution", "nc": "NonCommercial", "nd": "NoDerivatives",
             "sa": "ShareAlike"}


def licence_label(url: str) -> str:
    """A human name for a licence URL: Creative Commons licences by name, others as given."""
    match = _CC.match(url)
    if not match:
        return url
    kind, code, version = match.groups()
    if kind == "publicdomain":
        return "CC0 1.0 Universal (Public Domain Dedication)" if code == "zero" else url
    parts = code.split("-")
    if not parts or any(p not in _CC_NAMES for p in parts):
        return url
    name = "-".join(_CC_NAMES[p] for p in parts)
    short = f"CC {code.upper()}" + (f" {version}" if version else "")
    suffix = " International" if version == "4.0" else ""
    return f"Creative Commons {name} {version or ''}{suffix}".replace("  ", " ").strip() + \
        f" ({short})"


# NISO JAV versions as repositories label the files that carry them.
VERSION_LABELS: dict[str, str] = {
    "AO": "Author's original",
    "SMUR": "Submitted manuscript under review",
    "AM": "Accepted manuscript",
    "P": "Proof",
    "VoR": "Version of record",
    "CVoR": "Corrected version of record",
    "EVoR": "Enhanced version of record",
}  # NA (not applicable: data, software) has no label
