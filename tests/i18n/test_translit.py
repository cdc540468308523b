"""Uzbek Latin to Cyrillic: each documented rule, and what must be left alone."""

from __future__ import annotations

import pytest

from bot.i18n.translit import latin_to_cyrillic


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("oʻzbek", "ўзбек"),  # oʻ → ў
        ("Oʻzbekiston", "Ўзбекистон"),
        ("gʻoya", "ғоя"),  # gʻ → ғ
        ("o'g'il", "ўғил"),  # ASCII apostrophes as typed on phones
        ("o‘g‘il", "ўғил"),  # U+2018 as typed on some keyboards
        ("shartnoma", "шартнома"),  # sh → ш
        ("SHARTNOMA", "ШАРТНОМА"),
        ("choy", "чой"),  # ch → ч
        ("tong", "тонг"),  # ng stays н + г
        ("yoki", "ёки"),  # yo → ё
        ("yuk", "юк"),  # yu → ю
        ("yashash", "яшаш"),  # ya → я
        ("Rossiya", "Россия"),
        ("yoʻq", "йўқ"),  # regression: y before oʻ is й, not part of ё
        ("yoʻl", "йўл"),
        ("Yoʻqotish", "Йўқотиш"),
        ("yer", "ер"),  # ye at the start of a word → е
        ("Yevropa", "Европа"),
        ("ega", "эга"),  # e at the start of a word → э
        ("bilet", "билет"),  # e elsewhere → е
        ("Federatsiyasi", "Федерацияси"),  # tsiya → ция in Russian loans
        ("ketsa", "кетса"),  # other ts stay тс
        ("maʼlumot", "маълумот"),  # tutuq belgisi → ъ
        ("ma'lumot", "маълумот"),
        ("qaror", "қарор"),
        ("xizmat", "хизмат"),
        ("harbiy", "ҳарбий"),
        ("jarima", "жарима"),
    ],
)
def test_rule(latin: str, cyrillic: str) -> None:
    assert latin_to_cyrillic(latin) == cyrillic


def test_placeholders_urls_and_domains_are_left_alone() -> None:
    text = "Savol {number}: mehnat.tj va https://migration.tj/ru sahifasi"
    assert latin_to_cyrillic(text) == "Савол {number}: mehnat.tj ва https://migration.tj/ru саҳифаси"


def test_bot_commands_are_left_alone() -> None:
    assert latin_to_cyrillic("Hozir oʻchirish uchun /forget yuboring.") == "Ҳозир ўчириш учун /forget юборинг."


def test_bracketed_abbreviation_pair_is_reduced_to_one() -> None:
    assert latin_to_cyrillic("yashash guvohnomasi (VNJ / ВНЖ)") == "яшаш гувоҳномаси (ВНЖ)"


def test_pair_written_without_spaces_is_reduced_too() -> None:
    assert latin_to_cyrillic("Yashash guvohnomasi (VNJ/ВНЖ)") == "Яшаш гувоҳномаси (ВНЖ)"


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [("Belarus", "Беларусь"), ("oktabr", "октябрь"), ("24 fevraldan", "24 февралдан"), ("TASS xabari", "ТАСС хабари")],
)
def test_whole_words_with_a_soft_sign_or_a_cyrillic_name(latin: str, cyrillic: str) -> None:
    assert latin_to_cyrillic(latin) == cyrillic


def test_names_the_caller_keeps_stay_in_latin() -> None:
    assert latin_to_cyrillic("RFE/RL tekshiruvi", keep={"RFE", "RL"}) == "RFE/RL текшируви"


def test_text_already_in_cyrillic_is_unchanged() -> None:
    assert latin_to_cyrillic("ВНЖ, РВП") == "ВНЖ, РВП"
