"""Read YAML keeping the line of every mapping, key and list item, so errors can name them."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml

from bot.problems import Problem, ProblemsError

__all__ = ["Map", "Seq", "YamlSyntaxError", "fold", "read_yaml"]


def fold(text: str) -> str:
    """Fold runs of white space to one space, as YAML's folded blocks read to a person."""
    return " ".join(text.split())


class YamlSyntaxError(ProblemsError):
    """The file is not valid YAML; ``problems`` locates where the parser gave up."""


class Map(dict[Any, Any]):
    """A YAML mapping that remembers where it and each of its keys stand."""

    line: int
    key_lines: dict[Any, int]
    raw: dict[Any, str]

    def line_of(self, key: Any) -> int:
        """Line of ``key`` if present, else of the mapping itself."""
        return self.key_lines.get(key, self.line)


class Seq(list[Any]):
    """A YAML sequence that remembers the line of each item and its text as written."""

    line: int
    item_lines: list[int]
    raw: list[str | None]


class _Tracking:
    """Builds Map and Seq and records duplicate keys instead of hiding them; mixed into a SafeLoader."""

    def __init__(self, stream: str, path: str) -> None:
        super().__init__(stream)  # type: ignore[call-arg]
        self.path = path
        self.duplicates: list[Problem] = []

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Construct a node; a value PyYAML cannot build (a 13th month, ``!!int abc``) names its line."""
        try:
            return super().construct_object(node, deep=deep)  # type: ignore[misc]
        except (ValueError, TypeError, OverflowError) as exc:
            shown = f" {node.value!r}" if isinstance(node, yaml.ScalarNode) else ""
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value{shown}: {exc}", node.start_mark
            ) from exc


class _Loader(_Tracking, yaml.SafeLoader):
    """PyYAML's pure-Python parser: the one whose error messages operators see."""


#: libyaml's parser (the same constructors, about 10 times faster), when PyYAML was built with it.
_FastLoader: type[_Tracking] | None = (
    type("_FastLoader", (_Tracking, yaml.CSafeLoader), {}) if getattr(yaml, "__with_libyaml__", False) else None
)


def _scalar_text(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _construct_map(loader: Any, node: yaml.MappingNode) -> Map:
    loader.flatten_mapping(node)
    result = Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    result.raw = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
            )
        if key in result:
            loader.duplicates.append(
                Problem(
                    loader.path,
                    line,
                    "",
                    f"key {key!r} appears twice in one block (first at line {result.key_lines[key]})",
                )
            )
            continue
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
        text = _scalar_text(value_node)
        if text is not None:
            result.raw[key] = text
    return result


def _construct_seq(loader: Any, node: yaml.SequenceNode) -> Seq:
    result = Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    result.raw = [_scalar_text(child) for child in node.value]
    return result


for _loader in (_Loader, _FastLoader):
    if _loader is not None:
        _loader.add_constructor("tag:yaml.org,2002:map", _construct_map)  # type: ignore[attr-defined]
        _loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)  # type: ignore[attr-defined]


def _explain(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """The line an operator should look at, and what is wrong there in plain words ("" if not known).

    PyYAML words its errors for parser writers ("expected <block end>, but found '<block sequence
    start>'"), and for a quote or bracket never closed it points at the end of the file, lines after
    the mistake; the line it began on is the one to fix.
    """
    problem, context = exc.problem or "", exc.context or ""
    at = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
    began = exc.context_mark.line + 1 if exc.context_mark is not None else at
    if "'\\t'" in problem:
        return at, "a tab character: indent with spaces only"
    if problem.startswith("mapping values are not allowed"):
        return at, (
            "a key is indented differently from the keys above it (keys of one block start in the same "
            "column), or a text holds ': ' and needs quotes"
        )
    if "expected <block end>" in problem:
        return at, (
            f"this line is not indented like the rest of the block that begins at line {began}: the keys "
            "of one block, and the '-' items of one list, start in the same column"
        )
    if "quoted scalar" in context:
        return began, "a quoted text begins on this line and its closing quote is missing"
    if "flow sequence" in context or "flow mapping" in context:
        return began, "a [ or { begins on this line and is never closed"
    if "could not find expected ':'" in problem:
        return began, "a key here has no ':' after it, or a quoted text is not closed"
    return at, ""


def read_yaml(text: str, path: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text; return the data and any duplicate-key problems.

    Raises:
        YamlSyntaxError: the text is not YAML; the problem names file and line.
    """
    try:
        # The constructor already reads the text: it rejects control characters.
        loader = _Loader(text, path)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        detail = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        raise YamlSyntaxError([Problem(path, line, "", f"YAML syntax error: {detail}")]) from exc
    if _FastLoader is not None:
        fast = _FastLoader(text, path)
        try:
            return fast.get_single_data(), fast.duplicates  # type: ignore[attr-defined]
        except yaml.YAMLError:
            pass  # read it again below, for the pure-Python parser's error message
        finally:
            fast.dispose()  # type: ignore[attr-defined]
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        line, plain = _explain(exc)
        said = " ".join(part for part in (exc.context, exc.problem) if part)
        message = (
            f"YAML syntax error: {plain} (the YAML parser says: {said})" if plain else f"YAML syntax error: {said}"
        )
        raise YamlSyntaxError([Problem(path, line, "", message)]) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError([Problem(path, 1, "", f"YAML error: {exc}")]) from exc
    finally:
        loader.dispose()
    return data, loader.duplicates
