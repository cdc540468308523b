"""Callback data: what buttons carry, and how untrusted data from a client is parsed."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, event, example, given, settings
from hypothesis import strategies as st

from bot.core.engine import Engine
from bot.telegram.callbacks import ARITY, CODES, INVALID, MAX_BYTES, Callback, Press, decode, encode, version_tag

V = version_tag("decree-821@2026.11.21")

#: The wire format, written out apart from the codec: what the tests hold decode to. A button is
#: ``<code>:<6 hex digits>`` and its arguments: ids for an answer, a language code for a language.
_VERSION, _ID, _LANG = r"[0-9a-f]{6}", r"[a-z0-9][a-z0-9_.-]*", r"[A-Za-z_]{2,8}"
WIRE = re.compile(rf"(?:a:{_VERSION}:{_ID}:{_ID}|[brsmch]:{_VERSION}|l:{_VERSION}:{_LANG}|o:{_VERSION}:{_ID})")


def test_version_tag_is_short_stable_and_differs_between_versions() -> None:
    assert version_tag("decree-821@2026.11.21") == V
    assert len(V) == 6
    assert version_tag("decree-821@2026.12.01") != V


@pytest.mark.parametrize(
    ("kind", "args", "data"),
    [
        (Press.ANSWER, ("citizenship", "uzbekistan"), f"a:{V}:citizenship:uzbekistan"),
        (Press.BACK, (), f"b:{V}"),
        (Press.START_OVER, (), f"r:{V}"),
        (Press.BEGIN, (), f"s:{V}"),
        (Press.MENU, (), f"m:{V}"),
        (Press.LANGUAGE, ("uz_Cyrl",), f"l:{V}:uz_Cyrl"),
        (Press.SECTION, ("sources",), f"o:{V}:sources"),
        (Press.HINTS, (), f"h:{V}"),
    ],
)
def test_every_kind_keeps_its_wire_format_and_round_trips(kind: Press, args: tuple[str, ...], data: str) -> None:
    """Buttons already in people's chats carry these bytes: they must keep decoding."""
    assert encode(kind, V, *args) == data
    assert decode(data) == Callback(kind, V, args)


def test_every_kind_of_press_but_invalid_has_a_wire_code() -> None:
    assert set(CODES) == set(Press) - {Press.INVALID}
    assert len(set(CODES.values())) == len(CODES)


def test_every_answer_button_of_the_shipped_table_fits_telegrams_limit(engine: Engine) -> None:
    for fact in engine.table.facts:
        for option in fact.options:
            data = encode(Press.ANSWER, V, fact.id, option.id)
            assert len(data.encode()) <= MAX_BYTES
            assert decode(data) == Callback(Press.ANSWER, V, (fact.id, option.id))


def test_encoding_refuses_data_longer_than_64_bytes() -> None:
    with pytest.raises(ValueError, match="longer than 64 bytes"):
        encode(Press.ANSWER, V, "a_fact_with_a_very_long_identifier", "and_an_option_just_as_long_as_it")


@pytest.mark.parametrize(("kind", "args"), [(Press.INVALID, ()), (Press.ANSWER, ("sex",)), (Press.BACK, ("extra",))])
def test_encoding_refuses_an_unknown_kind_or_the_wrong_arguments(kind: Press, args: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match=r"kind|argument"):
        encode(kind, V, *args)


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
        f"answer:{V}:sex:male",  # the kind's name is not its wire code
        f"a:{V}:sex:male\n",  # "$" in a pattern would let a trailing newline through
        f"l:{V}:ru\n",
    ],
)
def test_malformed_data_is_invalid(data: str | None) -> None:
    assert decode(data) is INVALID


# Properties ---------------------------------------------------------------------------------------

KINDS = st.sampled_from(sorted(CODES))
VERSIONS = st.from_regex(_VERSION, fullmatch=True)
#: Ids at most 27 characters: two of them and the rest of an answer button just fit 64 bytes.
IDS = st.from_regex(_ID, fullmatch=True).filter(lambda s: len(s) <= 27)
LANGS = st.from_regex(_LANG, fullmatch=True)


@st.composite
def presses(draw: st.DrawFn) -> Callback:
    """Any press a button can carry: a kind, a version tag, and the arguments that kind takes."""
    kind = draw(KINDS)
    args = tuple(draw(LANGS if kind is Press.LANGUAGE else IDS) for _ in range(ARITY[kind]))
    return Callback(kind, draw(VERSIONS), args)


@given(presses())
def test_every_press_a_button_can_carry_round_trips(pressed: Callback) -> None:
    data = encode(pressed.kind, pressed.version, *pressed.args)
    assert len(data.encode()) <= MAX_BYTES
    assert WIRE.fullmatch(data)
    assert decode(data) == pressed


@given(st.binary(max_size=80).map(lambda raw: raw.decode("utf-8", errors="replace")))
@example("s:" + V + "\x00")
def test_random_bytes_are_invalid(data: str) -> None:
    assume(not WIRE.fullmatch(data))  # never seen: a random string that happens to be a button
    assert decode(data) is INVALID


#: Small edits a forger, or a broken client, could make to a real button's data.
EDITS = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, 70)),
    st.tuples(st.just("drop"), st.integers(0, 70)),
    st.tuples(st.just("insert"), st.integers(0, 70), st.sampled_from([":", "\n", " ", "A", "-", "é", "0", "x"])),
    st.tuples(st.just("append"), st.sampled_from([":", ":x", "\n", "0", ":ru", "::"])),
)


def _edited(data: str, edit: tuple[object, ...]) -> str:
    """``data`` with one edit applied (positions past the end apply at the end)."""
    match edit:
        case ("cut", int(at)):
            return data[:at]
        case ("drop", int(at)):
            return data[:at] + data[at + 1 :]
        case ("insert", int(at), str(text)):
            return data[:at] + text + data[at:]
        case ("append", str(text)):
            return data + text
    raise AssertionError(edit)


@settings(max_examples=500)  # cheap, and a near miss is rarer than a plain miss
@given(presses(), st.lists(EDITS, min_size=1, max_size=3))
@example(Callback(Press.ANSWER, V, ("sex", "male")), [("append", "\n")])  # "$" matches before a final newline
def test_an_edited_button_decodes_only_if_it_is_still_well_formed(
    pressed: Callback, edits: list[tuple[object, ...]]
) -> None:
    data = encode(pressed.kind, pressed.version, *pressed.args)
    for edit in edits:
        data = _edited(data, edit)
    decoded = decode(data)
    well_formed = bool(WIRE.fullmatch(data)) and len(data.encode()) <= MAX_BYTES
    event("still well-formed" if well_formed else "malformed")
    if well_formed:
        assert decoded is not INVALID
        assert encode(decoded.kind, decoded.version, *decoded.args) == data
    else:
        assert decoded is INVALID
