"""Uzbek Latin to Uzbek Cyrillic, for drafting the uz_Cyrl catalog from the uz one.

The rules follow the official correspondence of the 1995 Latin alphabet and the Cyrillic one:

======================  ==========  ==============================================
Latin                   Cyrillic    note
======================  ==========  ==============================================
oʻ  gʻ                  ў  ғ        also written o' o‘ g' g‘
sh  ch                  ш  ч
yo  yu  ya              ё  ю  я     but yoʻ → йў (yoʻq → йўқ)
ye                      е           at the start of a word or after a vowel
e                       э / е       э at the start of a word, е elsewhere
tsiya  tsio             ция  цио    Russian loans (Federatsiya); other "ts" stay тс
ʼ (tutuq belgisi)       ъ           also written ' ’ after a letter other than o/g
h  q  x  j  y           ҳ  қ  х  ж  й
======================  ==========  ==============================================

Left untouched: {placeholders}, URLs and domains, /commands, words already in Cyrillic (ВНЖ), and the
names written in Latin that the caller lists (RFE/RL). A
bracketed pair that becomes the same word twice, like "(VNJ / ВНЖ)", is reduced to "(ВНЖ)".
A short list of whole words covers the soft sign of common loans (Belarus → Беларусь, oktabr →
октябрь) and names with a Cyrillic spelling (TASS → ТАСС). What no rule or list knows — other
loans (sirk → цирк, obyekt → объект) — is for the reviewer: every draft is marked fuzzy.
"""

from __future__ import annotations

import re
from collections.abc import Collection

__all__ = ["latin_to_cyrillic"]

_MODIFIER = "\u02bb"  # ʻ
_TUTUQ = "\u02bc"  # ʼ

_SINGLE = {
    "a": "а", "b": "б", "d": "д", "f": "ф", "g": "г", "h": "ҳ", "i": "и", "j": "ж", "k": "к", "l": "л",
    "m": "м", "n": "н", "o": "о", "p": "п", "q": "қ", "r": "р", "s": "с", "t": "т", "u": "у", "v": "в",
    "x": "х", "y": "й", "z": "з", "c": "к", "w": "в",
}  # fmt: skip
_MULTI = [
    ("tsiya", "ция"),
    ("tsio", "цио"),
    ("o" + _MODIFIER, "ў"),
    ("g" + _MODIFIER, "ғ"),
    ("sh", "ш"),
    ("ch", "ч"),
    ("yo", "ё"),
    ("yu", "ю"),
    ("ya", "я"),
]
_PROTECTED = re.compile(
    r"\{[^{}]*\}|https?://\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:tj|uz|kg|ru|org|com|net)\b|(?<![\w/])/[a-z_]+\b"
)
_PAIR = re.compile(r"(\b[\w\u0400-\u04ff]+) ?/ ?\1\b")
# Whole words no letter rule gets right: the soft sign of Russian loans (only on the bare word:
# official Cyrillic drops it before a suffix, февралдан) and names with a Cyrillic spelling.
_WORDS = {
    "belarus": "Беларусь",
    "fevral": "февраль",
    "oktabr": "октябрь",
    "noyabr": "ноябрь",
    "dekabr": "декабрь",
    "sentabr": "сентябрь",
    "tass": "ТАСС",
    "svoboda": "Свобода",
}


def _normalize(text: str) -> str:
    """Write oʻ gʻ with U+02BB and the tutuq belgisi with U+02BC, whatever the typist used."""
    text = re.sub(r"([oOgG])['‘’`]", lambda m: m.group(1) + _MODIFIER, text)
    return re.sub(r"(?<=\w)['’]", _TUTUQ, text)


def _word(word: str) -> str:
    known = _WORDS.get(word.lower())
    if known is not None:
        return known if word[0].isupper() or known.isupper() else known.lower()
    out: list[str] = []
    i = 0
    lower = word.lower()
    while i < len(word):
        prev = lower[i - 1] if i else ""
        at_start = i == 0
        matched = False
        if lower.startswith("ye", i) and (at_start or prev in "aeiou"):
            out.append(_case(word[i], "е"))
            i += 2
            continue
        for latin, cyrillic in _MULTI:
            # "yoʻq" is й + ў + қ: y before oʻ is a consonant of its own, not part of ё.
            if lower.startswith(latin, i) and not (latin[0] == "y" and lower.startswith(_MODIFIER, i + 2)):
                out.append(_case(word[i], cyrillic))
                i += len(latin)
                matched = True
                break
        if matched:
            continue
        char = word[i]
        low = lower[i]
        if low == "e":
            out.append(_case(char, "э" if at_start else "е"))
        elif char == _TUTUQ:
            out.append("ъ")
        elif low in _SINGLE:
            out.append(_case(char, _SINGLE[low]))
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _case(source: str, target: str) -> str:
    """Give the Cyrillic the case of the Latin letter it replaces (Sh → Ш)."""
    if source.isupper():
        return target[0].upper() + target[1:]
    return target


def latin_to_cyrillic(text: str, keep: Collection[str] = ()) -> str:
    """Transliterate an Uzbek Latin text to Uzbek Cyrillic, keeping placeholders, URLs and ``keep`` words."""
    text = _normalize(text)
    parts: list[str] = []
    last = 0
    for match in _PROTECTED.finditer(text):
        parts.append(_words(text[last : match.start()], keep))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_words(text[last:], keep))
    return _PAIR.sub(r"\1", "".join(parts))


def _words(text: str, keep: Collection[str]) -> str:
    def convert(match: re.Match[str]) -> str:
        word = match.group(0)
        return word if word in keep and word.lower() not in _WORDS else _word(word)

    return re.sub(r"[A-Za-z\u02bb\u02bc]+", convert, text)
