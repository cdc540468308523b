"""Draw the conversation as a diagram: questions as nodes, answers as edges, outcomes as leaves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core.engine import Decision, Engine, Session
from bot.core.table import Fact, Table

__all__ = ["VERDICT_COLOURS", "Graph", "build_graph", "to_dot", "to_markdown", "to_mermaid"]

VERDICT_COLOURS = {
    "not_affected": "#c8e6c9",
    "requirement_met": "#bbdefb",
    "affected": "#ffcdd2",
    "unclear": "#fff9c4",
}


@dataclass
class Graph:
    """Question nodes (merged where the rest of the conversation is the same), outcome leaves."""

    questions: dict[str, Fact] = field(default_factory=dict)
    edges: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    outcomes: set[str] = field(default_factory=set)


def build_graph(engine: Engine) -> Graph:
    """Walk every conversation, merging states whose futures are identical."""
    graph = Graph()
    names: dict[object, str] = {}
    stack = [engine.new_session()]
    seen: set[str] = set()
    while stack:
        session = stack.pop()
        step = engine.step(session)
        if isinstance(step, Decision):
            continue
        node = _name(engine, session, names)
        graph.questions[node] = step.fact
        if node in seen:
            continue
        seen.add(node)
        for option in step.fact.options:
            child = Session(session.lang, {**session.answers, step.fact.id: option.id}, session.version)
            after = engine.step(child)
            if isinstance(after, Decision):
                target = _outcome_node(after.outcome.id)
                graph.outcomes.add(after.outcome.id)
            else:
                target = _name(engine, child, names)
                stack.append(child)
            graph.edges.setdefault((node, target), []).append(option.label)
    return graph


def _name(engine: Engine, session: Session, names: dict[object, str]) -> str:
    """Name a state by what its future depends on: possible rules and how answers meet them."""
    key = engine.state_key(session)
    if key not in names:
        names[key] = f"q{len(names)}"
    return names[key]


def to_mermaid(table: Table, graph: Graph) -> str:
    """Render as a Mermaid flowchart."""
    lines = ["flowchart TD"]
    for node, fact in graph.questions.items():
        lines.append(f'  {node}{{"{_mermaid_text(fact.question)}"}}')
    for outcome_id in sorted(graph.outcomes):
        outcome = table.outcomes[outcome_id]
        text = _mermaid_text(f"{outcome.verdict}: {outcome.headline}")
        lines.append(f'  {_outcome_node(outcome_id)}(["{text}"]):::{outcome.verdict}')
    for (source, target), labels in graph.edges.items():
        lines.append(f'  {source} -->|"{_mermaid_text(" / ".join(labels))}"| {target}')
    for verdict, colour in VERDICT_COLOURS.items():
        lines.append(f"  classDef {verdict} fill:{colour},stroke:#555")
    return "\n".join(lines) + "\n"


def to_dot(table: Table, graph: Graph) -> str:
    """Render as Graphviz DOT."""
    lines = ["digraph conversation {", "  rankdir=TB;", '  node [fontname="sans-serif"];']
    # Node names are quoted: ids may contain '-' and '.', which a bare DOT identifier may not.
    for node, fact in graph.questions.items():
        lines.append(f'  "{node}" [shape=diamond, label="{_dot_text(fact.question)}"];')
    for outcome_id in sorted(graph.outcomes):
        outcome = table.outcomes[outcome_id]
        colour = VERDICT_COLOURS[outcome.verdict]
        label = _dot_text(f"{outcome.verdict}: {outcome.headline}")
        style = f'shape=box, style="rounded,filled", fillcolor="{colour}"'
        lines.append(f'  "{_outcome_node(outcome_id)}" [{style}, label="{label}"];')
    for (source, target), labels in graph.edges.items():
        lines.append(f'  "{source}" -> "{target}" [label="{_dot_text(" / ".join(labels))}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_markdown(table: Table, graph: Graph) -> str:
    """Render as the Markdown page kept in docs/conversation.md."""
    return (
        "# The conversation, as a diagram\n\n"
        f"Generated from the rule table `{table.meta.id}` version {table.meta.version} by\n"
        "`maslahat graph --format markdown -o docs/conversation.md`; a test fails when it is out of date.\n\n"
        "Questions are diamonds, answers are edges; outcomes are coloured by verdict: green not affected,\n"
        "blue requirement met, red affected, yellow unclear. Answers that lead the same way share an edge,\n"
        "and questions whose conversations go on the same way share a node.\n\n"
        f"```mermaid\n{to_mermaid(table, graph)}```\n"
    )


def _outcome_node(outcome_id: str) -> str:
    """A node name safe in Mermaid and DOT: ids may hold '-' and '.', which Mermaid reads as syntax."""
    return "o_" + re.sub(r"[^a-z0-9_]", "_", outcome_id)


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
