"""Callback data: what buttons carry, and how untrusted data from a client is parsed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.engine import Engine
from bot.telegram.callbacks import INVALID, MAX_BYTES, Callback, decode, encode, version_tag

V = version_tag("decree-821@2026.11.21")


def test_version_tag_is_short_stable_and_differs_between_versions() -> None:
    assert version_tag("decree-821@2026.11.21") == V
    assert len(V) == 6
    assert version_tag("decree-821@2026.12.01") != V


@pytest.mark.parametrize(
    ("kind", "args"),
    [("a", ("citizenship", "uzbekistan")), ("b", ()), ("r", ()), ("s", ()), ("m", ()), ("l", ("uz_Cyrl",))],
)
def test_every_kind_round_trips(kind: str, args: tuple[str, ...]) -> None:
    assert decode(encode(kind, V, *args)) == Callback(kind, V, args)


def test_every_answer_button_of_the_shipped_table_fits_telegrams_limit(engine: Engine) -> None:
    for fact in engine.table.facts:
        for option in fact.options:
            data = encode("a", V, fact.id, option.id)
            assert len(data.encode()) <= MAX_BYTES
            assert decode(data) == Callback("a", V, (fact.id, option.id))


def test_encoding_refuses_data_longer_than_64_bytes() -> None:
    with pytest.raises(ValueError, match="longer than 64 bytes"):
        encode("a", V, "a_fact_with_a_very_long_identifier", "and_an_option_just_as_long_as_it")


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "a",
        "a:",
        f"a:{V}",
        f"a:{V}:sex",
        f"a:{V}:sex:male:more",
        "a:XYZXYZ:sex:male",
        f"a:{V}:Sex:male",
        f"a:{V}:sex:<script>",
        f"z:{V}",
        f"b:{V}:extra",
        f"l:{V}:../../etc",
        f"l:{V}:русский",
        "x" * 65,
    ],
)
def test_malformed_data_is_invalid(data: str | None) -> None:
    assert decode(data) is INVALID


@given(st.text(max_size=80))
def test_decoding_anything_never_raises_and_yields_valid_parts(data: str) -> None:
    pressed = decode(data)
    if pressed is not INVALID:
        assert encode(pressed.kind, pressed.version, *pressed.args) == data
