"""`maslahat graph`: the conversation as Mermaid, DOT and the Markdown page in docs/."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.engine import Engine
from bot.core.table import Table
from tests.support.shipped import ROOT, RULES

MERMAID_QUESTION = re.compile(r'^  (q\d+)\{"(.*)"\}$')
MERMAID_OUTCOME = re.compile(r'^  o_(\S+)\(\["(.*)"\]\):::(\w+)$')
MERMAID_EDGE = re.compile(r'^  (\S+) -->\|"(.*)"\| (\S+)$')
MERMAID_CLASS = re.compile(r"^  classDef (\w+) fill:#[0-9a-f]{6},stroke:#[0-9a-f]{3}$")


@pytest.fixture(autouse=True)
def _shipped_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASLAHAT_RULES", raising=False)


def graph(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main([*args[:-1], "graph", "--format", args[-1]] if args else ["graph"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""
    return captured.out


class Mermaid:
    """A Mermaid flowchart as this command writes it, parsed line by line."""

    def __init__(self, text: str) -> None:
        lines = text.splitlines()
        assert lines[0] == "flowchart TD"
        self.questions: dict[str, str] = {}
        self.outcomes: dict[str, tuple[str, str]] = {}
        self.edges: dict[str, list[tuple[list[str], str]]] = defaultdict(list)
        self.classes: set[str] = set()
        for line in lines[1:]:
            if match := MERMAID_QUESTION.match(line):
                assert match[1] not in self.questions, f"declared twice: {line}"
                self.questions[match[1]] = match[2]
            elif match := MERMAID_OUTCOME.match(line):
                self.outcomes[match[1]] = (match[3], match[2])
            elif match := MERMAID_EDGE.match(line):
                self.edges[match[1]].append((match[2].split(" / "), match[3]))
            elif match := MERMAID_CLASS.match(line):
                self.classes.add(match[1])
            else:
                pytest.fail(f"unexpected line: {line!r}")


@pytest.fixture
def mermaid(capsys: pytest.CaptureFixture[str]) -> Mermaid:
    return Mermaid(graph(capsys))


def reachable_outcomes(engine: Engine) -> set[str]:
    return {decision.outcome.id for _session, decision in engine.conversations()}


# Mermaid -----------------------------------------------------------------------------------


def test_mermaid_is_the_default_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert graph(capsys) == graph(capsys, "mermaid")


def test_every_reachable_outcome_is_a_leaf_with_its_verdict_class(mermaid: Mermaid, engine: Engine) -> None:
    table = engine.table
    reachable = reachable_outcomes(engine)
    assert set(mermaid.outcomes) == reachable
    for outcome_id, (css_class, text) in mermaid.outcomes.items():
        outcome = table.outcomes[outcome_id]
        assert css_class == outcome.verdict
        assert text == f"{outcome.verdict}: {outcome.headline}".replace('"', "#quot;")
        assert f"o_{outcome_id}" not in mermaid.edges, "an outcome is a leaf"
    assert {verdict for verdict, _ in mermaid.outcomes.values()} <= mermaid.classes
    targets = {target for edges in mermaid.edges.values() for _labels, target in edges}
    assert {f"o_{o}" for o in reachable} <= targets, "every outcome has an edge leading to it"


def test_every_question_of_the_table_is_a_node(mermaid: Mermaid, table: Table) -> None:
    assert {fact.question for fact in table.facts} == set(mermaid.questions.values())


def test_every_option_of_every_question_node_is_on_exactly_one_edge(mermaid: Mermaid, table: Table) -> None:
    by_question = {fact.question: fact for fact in table.facts}
    assert not any(" / " in o.label for f in table.facts for o in f.options), "labels are joined with ' / '"
    for node, question in mermaid.questions.items():
        fact = by_question[question]
        labels = [label for edge_labels, _target in mermaid.edges[node] for label in edge_labels]
        assert sorted(labels) == sorted(o.label for o in fact.options), node
        targets = [target for _labels, target in mermaid.edges[node]]
        assert len(targets) == len(set(targets)), f"{node}: answers that lead the same way share one edge"


def test_every_edge_leads_to_a_declared_node_and_every_node_is_reached(mermaid: Mermaid) -> None:
    declared = set(mermaid.questions) | {f"o_{o}" for o in mermaid.outcomes}
    edges = [(source, target) for source, out in mermaid.edges.items() for _labels, target in out]
    assert {source for source, _ in edges} <= set(mermaid.questions)
    assert {target for _, target in edges} <= declared
    reached, todo = {"q0"}, ["q0"]
    while todo:
        node = todo.pop()
        for _labels, target in mermaid.edges.get(node, []):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    assert reached == declared


def test_the_first_question_is_the_root(mermaid: Mermaid, table: Table) -> None:
    assert mermaid.questions["q0"] == table.facts[0].question
    targets = {target for edges in mermaid.edges.values() for _labels, target in edges}
    assert "q0" not in targets


def test_kazakhstan_and_moldova_share_an_edge(mermaid: Mermaid, table: Table) -> None:
    citizenship = table.fact_index["citizenship"].question
    nodes = [node for node, question in mermaid.questions.items() if question == citizenship]
    assert nodes  # one per age group whose conversations go on differently (18 to 64, exactly 65)
    for node in nodes:
        edges = mermaid.edges[node]
        shared = [labels for labels, _target in edges if "Kazakhstan" in labels]
        assert shared == [["Kazakhstan", "Moldova"]]
        assert [labels for labels, _target in edges if "Belarus" in labels] == [["Belarus"]]


def test_a_woman_goes_straight_to_her_outcome(mermaid: Mermaid) -> None:
    assert (["A woman"], "o_not_affected_woman") in mermaid.edges["q0"]


def test_quotes_and_angle_brackets_are_escaped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rules = tmp_path / "quoted.yaml"
    text = RULES.read_text(encoding="utf-8")
    text = text.replace('question: "How old are you?"', "question: 'How \"old\" are <you>?'")
    rules.write_text(text.replace('label: "A man"', "label: 'A \"man\"'"), encoding="utf-8")
    out = graph(capsys, "--rules", str(rules), "mermaid")
    parsed = Mermaid(out)
    assert "How #quot;old#quot; are #lt;you#gt;?" in parsed.questions.values()
    assert (["A #quot;man#quot;"], "q1") in parsed.edges["q0"]


# DOT ---------------------------------------------------------------------------------------

DOT_ID = r'(?:"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*)'
DOT_ATTRS = r'\[(?:[a-z]+=(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9_#.-]+)(?:, )?)+\]'
DOT_NODE = re.compile(rf"^  ({DOT_ID}) ({DOT_ATTRS});$")
DOT_EDGE = re.compile(rf"^  ({DOT_ID}) -> ({DOT_ID}) ({DOT_ATTRS});$")
DOT_LABEL = re.compile(r'label="((?:[^"\\]|\\.)*)"')


def _dot_name(token: str) -> str:
    return token[1:-1] if token.startswith('"') else token


class Dot:
    """A DOT digraph as this command writes it: every line a statement DOT's grammar accepts."""

    def __init__(self, text: str) -> None:
        lines = text.splitlines()
        assert lines[0] == "digraph conversation {"
        assert lines[-1] == "}"
        self.nodes: dict[str, str] = {}
        self.edges: list[tuple[str, str, str]] = []
        for line in lines[1:-1]:
            if line in ("  rankdir=TB;", '  node [fontname="sans-serif"];'):
                continue
            if match := DOT_EDGE.match(line):
                label = DOT_LABEL.search(match[3])
                assert label is not None, line
                self.edges.append((_dot_name(match[1]), _dot_name(match[2]), label[1]))
            elif match := DOT_NODE.match(line):
                label = DOT_LABEL.search(match[2])
                assert label is not None, line
                assert _dot_name(match[1]) not in self.nodes, f"declared twice: {line}"
                self.nodes[_dot_name(match[1])] = label[1]
            else:
                pytest.fail(f"not a DOT statement: {line!r}")


def _without_strings(text: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)


def test_dot_is_a_balanced_digraph_with_every_node_declared(capsys: pytest.CaptureFixture[str]) -> None:
    text = graph(capsys, "dot")
    bare = _without_strings(text)
    assert bare.count("{") == bare.count("}") == 1
    assert bare.count("[") == bare.count("]")
    assert '"' not in bare.replace('""', ""), "every quoted string is closed"
    dot = Dot(text)
    assert {source for source, _, _ in dot.edges} | {target for _, target, _ in dot.edges} <= set(dot.nodes)


def test_dot_and_mermaid_draw_the_same_graph(capsys: pytest.CaptureFixture[str], mermaid: Mermaid) -> None:
    dot = Dot(graph(capsys, "dot"))
    assert dot.nodes == {
        **mermaid.questions,
        **{f"o_{o}": text for o, (_verdict, text) in mermaid.outcomes.items()},
    }
    mermaid_edges = {
        (source, target, " / ".join(labels)) for source, out in mermaid.edges.items() for labels, target in out
    }
    assert set(dot.edges) == mermaid_edges
    assert len(dot.edges) == len(mermaid_edges)


def test_dot_colours_outcomes_by_verdict(capsys: pytest.CaptureFixture[str], table: Table) -> None:
    text = graph(capsys, "dot")
    colours: dict[str, set[str]] = defaultdict(set)
    for match in re.finditer(r'^  "?o_([a-z0-9_.-]+)"? \[.*fillcolor="(#[0-9a-f]{6})"', text, flags=re.MULTILINE):
        colours[table.outcomes[match[1]].verdict].add(match[2])
    assert set(colours) == {"not_affected", "affected", "requirement_met", "unclear"}
    assert all(len(c) == 1 for c in colours.values()), "one colour per verdict"
    assert len({c for cs in colours.values() for c in cs}) == 4, "each verdict its own colour"


def test_dot_names_nodes_validly_when_ids_have_hyphens_and_dots(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The data contract allows '-' and '.' in ids; a bare DOT identifier does not.
    rules = tmp_path / "dotted.yaml"
    text = RULES.read_text(encoding="utf-8").replace('"not_affected_woman"', '"not-affected.woman"')
    text = text.replace('question: "How old are you?"', 'question: "How \\"old\\" are you?"')
    rules.write_text(text, encoding="utf-8")
    dot = Dot(graph(capsys, "--rules", str(rules), "dot"))
    assert ("q0", "o_not_affected_woman", "A woman") in dot.edges
    assert dot.nodes["o_not_affected_woman"].startswith("not_affected: ")
    assert 'How \\"old\\" are you?' in dot.nodes.values()
    mermaid = graph(capsys, "--rules", str(rules), "mermaid")
    assert "not-affected.woman" not in mermaid, "Mermaid reads '-' and '.' in node ids as syntax"
    assert '  q0 -->|"A woman"| o_not_affected_woman' in mermaid


# Markdown, and the page in docs/ -------------------------------------------------------------


def test_markdown_wraps_the_mermaid_chart(capsys: pytest.CaptureFixture[str], table: Table) -> None:
    markdown = graph(capsys, "markdown")
    chart = graph(capsys, "mermaid")
    assert markdown.startswith("# The conversation, as a diagram\n")
    assert f"`{table.meta.id}` version {table.meta.version}" in markdown
    assert markdown.endswith(f"```mermaid\n{chart}```\n")


def test_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "conversation.md"
    assert main(["graph", "--format", "markdown", "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert target.read_text(encoding="utf-8") == graph(capsys, "markdown")


def test_docs_conversation_md_is_up_to_date_with_the_rule_table(capsys: pytest.CaptureFixture[str]) -> None:
    shipped = (ROOT / "docs" / "conversation.md").read_text(encoding="utf-8")
    assert shipped == graph(capsys, "markdown"), (
        "docs/conversation.md is out of date; regenerate it with "
        "`make messages` (or `maslahat graph --format markdown -o docs/conversation.md`)"
    )
