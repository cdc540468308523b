"""Rule table growth: how loading, checking and answering scale from 10 to 1,000 rules.

Synthetic but realistic rule tables are generated in a temporary directory (never committed), shaped
like ``rules/decree-821.yaml``: a few early exclusions on one fact each (women, age, one country),
then, per group of countries of a citizenship question with many countries, a tree of rules over
the other facts (application, grounds, service, years in Russia, family, ...), each rule with 1 to 4
conditions, a catch-all last. Rules are disjoint regions of that tree, so none is shadowed; sibling
rules lead to different outcomes, so every question on the way is asked and every outcome reached.
Each generated table is verified with ``bot.ruletable.check.check_table`` (what ``maslahat check`` runs)
before it is measured.

Measured for each size (and for the shipped ``rules/decree-821.yaml`` as a reference point):

* load: ``bot.ruletable.loader.load_table`` (YAML parsing and validation);
* check: ``bot.ruletable.check.check_table``, which explores every distinct conversation;
* per answer, cold: complete conversations drawn at random (uniformly from every distinct conversation
  the table allows), each on a **fresh** ``Engine`` (empty caches): the time of ``Engine.step`` for the
  first question, then of ``Engine.answer`` + ``Engine.step`` per answer; the first step is reported on
  its own, because it computes how long the longest conversation can get, exploring the whole table;
* per answer, warm: the same conversations again on one engine whose caches are filled (the fastest
  of several passes, the one least disturbed by other work on the machine).

And, to show where exploring conversations explodes, a probe over unstructured tables whose rules'
conditions cut across each other instead of nesting (each under a time cap).

Ratios 100/10 and 1000/100 are computed from figures measured in the same run; the target is that
the time per answer grows no worse than linearly in the number of rules (a ratio of at most 10 for
ten times as many rules).

    .venv/bin/python -m benchmarks.bench_rules            # --full: 10, 100 and 1,000 rules
    .venv/bin/python -m benchmarks.bench_rules --smoke    # 10 and 30 rules, a few seconds
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import json
import os
import random
import shlex
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent

from benchmarks.common import machine, write_results  # noqa: E402
from bot.core.engine import Decision, Engine, Question, TooEntangled  # noqa: E402
from bot.core.table import Fact, Meta, Option, Outcome, Rule, Table  # noqa: E402
from bot.ruletable.check import check_table  # noqa: E402
from bot.ruletable.loader import load_table  # noqa: E402

RULES = ROOT / "rules" / "decree-821.yaml"
RESULTS = ROOT / "benchmarks" / "results" / "rules.json"

# The facts a larger table of this kind would ask, in the order asked. Each: id, question, options
# as (id, label). The citizenship question's options are generated from COUNTRIES.
FACT_POOL: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("sex", "Are you a man or a woman?", [("male", "A man"), ("female", "A woman")]),
    ("age", "How old are you?", [("under_18", "Under 18"), ("18_65", "18 to 65"), ("over_65", "Over 65")]),
    ("citizenship", "Which country's citizen are you?", []),
    (
        "application",
        "What are you applying for now?",
        [
            ("residence_permit", "Residence permit (VNZh)"),
            ("citizenship", "Russian citizenship"),
            ("temporary_permit", "Temporary permit (RVP)"),
            ("patent", "Work patent"),
        ],
    ),
    (
        "residence_basis",
        "On what grounds are you applying for the residence permit?",
        [
            ("after_temporary_permit", "After a year on RVP"),
            ("family", "Family of a Russian citizen"),
            ("highly_qualified", "Highly qualified specialist"),
            ("study", "Study in Russia"),
            ("compatriot_program", "Compatriots programme"),
            ("other", "Other grounds"),
        ],
    ),
    (
        "service",
        "Do you have any of these?",
        [
            ("contract", "Serving under a contract"),
            ("discharged", "Discharged from service"),
            ("unfit", "Found unfit for service"),
            ("none", "None of these"),
        ],
    ),
    (
        "years_in_russia",
        "How long have you lived in Russia?",
        [("under_1", "Less than a year"), ("1_3", "1 to 3 years"), ("3_5", "3 to 5 years"), ("over_5", "Over 5 years")],
    ),
    (
        "family",
        "Is anyone in your close family a Russian citizen?",
        [
            ("spouse", "My wife or husband"),
            ("child", "My child"),
            ("parent", "My mother or father"),
            ("none", "No one"),
        ],
    ),
    (
        "work",
        "What do you do in Russia?",
        [("employed", "I am employed"), ("self_employed", "I work for myself"), ("student", "I study")],
    ),
    (
        "language_test",
        "Have you passed the Russian language test?",
        [("passed", "Yes, I passed it"), ("failed", "I failed it"), ("exempt", "I do not need it")],
    ),
    (
        "region",
        "Where in Russia do you live?",
        [
            ("moscow", "Moscow or its region"),
            ("st_petersburg", "St Petersburg or its region"),
            ("border", "A border region"),
            ("elsewhere", "Elsewhere"),
        ],
    ),
    (
        "education",
        "What is your education?",
        [("russian_degree", "A Russian degree"), ("foreign_degree", "A foreign degree"), ("school", "School")],
    ),
    (
        "record",
        "Have you ever been convicted of a crime?",
        [("none", "Never"), ("minor", "A minor offence"), ("serious", "A serious crime")],
    ),
    (
        "health",
        "How is your health?",
        [("fit", "Healthy"), ("limited", "A long-term illness"), ("disabled", "A recognised disability")],
    ),
    (
        "registration",
        "Are you registered at your address (propiska)?",
        [("registered", "Yes"), ("expired", "It has expired"), ("not_registered", "No")],
    ),
    (
        "documents",
        "Is your passport valid for at least six more months?",
        [("valid", "Yes"), ("expiring", "It expires sooner"), ("expired", "It has expired")],
    ),
    (
        "compatriot",
        "Are you in the compatriots programme?",
        [("participant", "Yes, I am a participant"), ("applied", "I have applied"), ("no", "No")],
    ),
    (
        "income",
        "What is your monthly income?",
        [("above", "Above the regional minimum"), ("below", "Below the minimum"), ("none", "No income")],
    ),
    (
        "children",
        "Do you have children under 18?",
        [("none", "No"), ("one", "One child"), ("several", "Two or more")],
    ),
    (
        "marriage",
        "Are you married?",
        [("single", "Not married"), ("married", "Married"), ("divorced", "Divorced or widowed")],
    ),
]

COUNTRIES = [
    "Uzbekistan", "Tajikistan", "Kyrgyzstan", "Kazakhstan", "Turkmenistan", "Azerbaijan", "Armenia", "Georgia",
    "Moldova", "Belarus", "Ukraine", "Afghanistan", "India", "China", "Vietnam", "Turkey", "Mongolia", "Syria",
    "Egypt", "Nigeria", "Cameroon", "Cuba", "Nepal", "Bangladesh", "Pakistan", "Iran", "Iraq", "Serbia", "Latvia",
    "Lithuania", "Estonia", "Israel", "Germany", "Indonesia", "Sri Lanka", "Ghana", "Kenya", "Ethiopia", "Sudan",
    "Yemen", "Jordan", "Lebanon", "Morocco", "Algeria", "Tunisia", "Libya", "Brazil", "Colombia", "Venezuela",
    "Peru", "Laos", "Cambodia", "Thailand", "Myanmar", "Philippines", "North Korea", "South Korea", "Japan",
    "Bulgaria", "Romania",
]  # fmt: skip

VERDICTS = ("not_affected", "affected", "requirement_met", "unclear")
HEADLINES = {
    "not_affected": "The requirement does not apply to you",
    "affected": "The requirement applies to you: without a military document you cannot apply",
    "requirement_met": "The requirement applies to you, and what you have satisfies it",
    "unclear": "The sources do not say whether the requirement applies to you",
}


@dataclass(frozen=True)
class Size:
    """One generated table's shape."""

    rules: int
    facts: int
    countries: int


#: Per answer: a running bot's engine is warm (start-up's check explored the table); a fresh engine's
#: per-answer time is counted from its second step. A fresh engine's first step, which explores the
#: whole table once, is per engine, not per answer: reported (cold_first_step, cold_whole_conversation)
#: with its growth, not part of the target.
TARGET_FIGURES = ("warm_per_answer", "cold_per_answer")
SIZES_FULL = (Size(10, 6, 12), Size(100, 12, 30), Size(1000, 20, 60))
SIZES_SMOKE = (Size(10, 6, 12), Size(30, 8, 16))


# Generating a table ----------------------------------------------------------------------------


def _slug(text: str) -> str:
    return text.lower().replace(" ", "_")


@dataclass
class _Generator:
    size: Size
    rng: random.Random
    facts: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    used: dict[str, int] = field(default_factory=dict)
    outcomes: list[str] = field(default_factory=list)
    next_outcome: int = 0
    caps: dict[tuple[int, int], int] = field(default_factory=dict)

    def outcome(self, avoid: set[str]) -> str:
        """The next outcome of the cycle that no sibling rule has."""
        for _ in range(len(self.outcomes)):
            chosen = self.outcomes[self.next_outcome % len(self.outcomes)]
            self.next_outcome += 1
            if chosen not in avoid:
                return chosen
        return self.outcomes[0]

    def rule(self, when: dict[str, list[str]], outcome: str) -> None:
        self.rules.append({"when": when, "outcome": outcome})

    def capacity(self, start: int, conditions: int) -> int:
        """The most rules a region with this many conditions can hold, splitting on facts from ``start`` on."""
        key = (start, conditions)
        if key not in self.caps:
            candidates = [i for i in range(start, len(self.facts)) if len(self.facts[i][2]) >= 3]
            self.caps[key] = (
                1
                if conditions >= 4 or not candidates
                else max(len(self.facts[i][2]) * self.capacity(i + 1, conditions + 1) for i in candidates)
            )
        return self.caps[key]

    def tree(self, path: dict[str, list[str]], start: int, budget: int) -> int:
        """Rules for the region ``path``, at most ``budget``, over facts from ``start`` on; return how many."""
        candidates = [i for i in range(start, len(self.facts)) if len(self.facts[i][2]) >= 3]
        if budget <= 1 or len(path) >= 4 or not candidates:
            return 0  # the caller makes this region one rule
        # Of the facts whose subtree can hold the budget, the least used so far: every fact gets asked.
        roomy = [i for i in candidates if len(self.facts[i][2]) * self.capacity(i + 1, len(path) + 1) >= budget]
        window = roomy or [max(candidates, key=lambda i: len(self.facts[i][2]) * self.capacity(i + 1, len(path) + 1))]
        index = min(window, key=lambda i: (self.used.get(self.facts[i][0], 0), self.rng.random()))
        fact_id, _, options = self.facts[index]
        self.used[fact_id] = self.used.get(fact_id, 0) + 1
        ids = [o for o, _ in options]
        child_cap = self.capacity(index + 1, len(path) + 1)
        # Groups of options: enough to hold the budget, sometimes one left to the catch-all.
        need = -(-budget // child_cap)
        groups_n = max(2, min(len(ids), max(need, self.rng.randint(2, len(ids)))))
        shuffled = self.rng.sample(ids, len(ids))
        cuts = sorted(self.rng.sample(range(1, len(ids)), groups_n - 1))
        groups = [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(ids)], strict=True)]
        leave_one = budget <= (len(groups) - 1) * child_cap and self.rng.random() < 0.3 and len(groups) > 2
        covered = groups[:-1] if leave_one else groups
        covered = covered[: max(1, min(len(covered), budget))]
        shares = [1] * len(covered)
        for _ in range(budget - len(covered)):
            open_ = [i for i, s in enumerate(shares) if s < child_cap]
            if not open_:
                break
            shares[self.rng.choice(open_)] += 1
        made = 0
        sibling_outcomes: set[str] = set()
        for group, share in zip(covered, shares, strict=True):
            when = {**path, fact_id: sorted(group, key=ids.index)}
            inner = self.tree(when, index + 1, share)
            if inner == 0:
                chosen = self.outcome(sibling_outcomes)
                sibling_outcomes.add(chosen)
                self.rule(when, chosen)
                inner = 1
            made += inner
        return made


def generate_table(size: Size, seed: int = 821) -> dict[str, Any]:
    """A rule table of exactly ``size.rules`` rules, as data ready for YAML."""
    rng = random.Random(seed * 1_000_003 + size.rules)  # noqa: S311 - reproducible, not secret
    gen = _Generator(size, rng)
    countries = [(_slug(c), c) for c in COUNTRIES[: size.countries]] + [("other", "Another country")]
    for fact_id, question, options in FACT_POOL[: size.facts]:
        gen.facts.append((fact_id, question, countries if fact_id == "citizenship" else options))
    n_outcomes = max(4, size.rules // 4)
    verdict_cycle = ["affected", "requirement_met", "not_affected", "affected", "unclear"]
    outcome_verdicts = {f"outcome_{i + 1:04d}": verdict_cycle[i % len(verdict_cycle)] for i in range(n_outcomes)}
    gen.outcomes = list(outcome_verdicts)

    # Early exclusions, one condition each, each with its own outcome (as in the shipped table).
    exclusions: list[tuple[dict[str, list[str]], str, str]] = [
        ({"sex": ["female"]}, "not_affected_women", "not_affected"),
        ({"age": ["under_18", "over_65"]}, "not_affected_age", "not_affected"),
    ]
    if size.rules >= 30:
        exclusions.append(({"citizenship": ["belarus"]}, "not_affected_belarus", "not_affected"))
    for when, outcome, verdict in exclusions:
        outcome_verdicts[outcome] = verdict
        gen.rule(when, outcome)
    outcome_verdicts["unclear_other"] = "unclear"

    # The tree: groups of countries, then the other facts. "other" is left to the catch-all.
    excluded = {c for when, _, _ in exclusions for c in when.get("citizenship", [])}
    treated = [c for c, _ in countries if c not in excluded and c != "other"]
    budget = size.rules - len(gen.rules) - 1
    citizenship_index = [f[0] for f in gen.facts].index("citizenship")
    groups_n = max(2, min(len(treated), round(budget / 8)))
    rng.shuffle(treated)
    cuts = sorted(rng.sample(range(1, len(treated)), groups_n - 1))
    groups = [treated[a:b] for a, b in zip([0, *cuts], [*cuts, len(treated)], strict=True)]
    order = [c for c, _ in countries]
    root_cap = gen.capacity(citizenship_index + 1, 1)
    if groups_n * root_cap < budget:
        raise RuntimeError(f"a table of {size.rules} rules needs more facts or countries than {size}")
    shares = [1] * groups_n
    for _ in range(budget - groups_n):
        shares[rng.choice([i for i, s in enumerate(shares) if s < root_cap])] += 1
    carry = 0
    for group, share in zip(groups, shares, strict=True):
        when = {"citizenship": sorted(group, key=order.index)}
        want = share + carry
        made = gen.tree(when, citizenship_index + 1, want)
        if made == 0:
            gen.rule(when, gen.outcome(set()))
            made = 1
        carry = want - made
    if carry:
        raise RuntimeError(f"could not place {carry} rules in a table of {size.rules}; add facts or countries")
    gen.rule({}, "unclear_other")

    used_facts = {f for r in gen.rules for f in r["when"]}
    facts = [f for f in gen.facts if f[0] in used_facts]
    used_outcomes = {r["outcome"] for r in gen.rules}
    return _as_data(size, facts, gen.rules, {o: v for o, v in outcome_verdicts.items() if o in used_outcomes})


def _as_data(
    size: Size,
    facts: list[tuple[str, str, list[tuple[str, str]]]],
    rules: list[dict[str, Any]],
    outcomes: dict[str, str],
) -> dict[str, Any]:
    labels = {(f, o): label for f, _, options in facts for o, label in options}
    questions = {f: q for f, q, _ in facts}
    sources = [f"source_{i}" for i in range(1, 6)]
    first_rule = {}
    for rule in rules:
        first_rule.setdefault(rule["outcome"], rule)

    def explanation(outcome: str) -> str:
        when = first_rule[outcome]["when"]
        if not when:
            return "The sources do not cover your answers. Ask the migration office before you apply."
        parts = [f"{questions[f]} {' or '.join(labels[(f, o)] for o in opts)}" for f, opts in list(when.items())[:4]]
        return "This answer is for people who answered: " + "; ".join(parts) + "."

    outcome_blocks = []
    for index, (outcome, verdict) in enumerate(outcomes.items()):
        block: dict[str, Any] = {
            "id": outcome,
            "verdict": verdict,
            "headline": f"{HEADLINES[verdict]} (case {index + 1}).",
            "explanation": explanation(outcome),
        }
        if verdict in ("affected", "requirement_met"):
            block["satisfies"] = ["army_contract", "discharge"] if index % 2 else ["unfitness"]
        block["actions"] = ["ask_before_deciding"] + (["keep_current_status"] if verdict == "affected" else [])
        block["unknown"] = ["official_text"]
        block["sources"] = [sources[index % len(sources)]]
        block["help"] = ["migration_office"]
        outcome_blocks.append(block)
    confidences = ("high", "medium", "low")
    return {
        "meta": {
            "id": f"synthetic-{size.rules}",
            "title": f"A synthetic rule table of {size.rules} rules",
            "version": "2026.11.21",
            "checked": "2026-11-21",
            "disclaimer": "This is information, not legal advice. Only the migration office decides your case.",
        },
        "sources": [
            {
                "id": s,
                "title": f"Source number {i + 1}",
                "url": f"https://example.org/source/{i + 1}",
                "date": "2025-12",
            }
            for i, s in enumerate(sources)
        ],
        "facts": [
            {"id": f, "question": q, "options": [{"id": o, "label": label} for o, label in options]}
            for f, q, options in facts
        ],
        "documents": [
            {"id": "army_contract", "text": "A contract for military service of at least one year."},
            {"id": "discharge", "text": "A document of discharge from military service."},
            {"id": "unfitness", "text": "A document that you were found unfit for military service."},
        ],
        "actions": [
            {
                "id": "ask_before_deciding",
                "text": "Before you decide anything, ask the migration office and a lawyer.",
                "risk": "Rules are changing and sources are few.",
            },
            {
                "id": "keep_current_status",
                "text": "Not applying for now: keeping your current legal status.",
                "risk": "A temporary permit expires; waiting may not help.",
            },
        ],
        "unknowns": [{"id": "official_text", "text": "The official text of the decree could not be checked."}],
        "help": [
            {
                "id": "migration_office",
                "name": "The migration office that will receive your application",
                "text": "This is the office that decides.",
            }
        ],
        "outcomes": outcome_blocks,
        "rules": [
            {
                "id": f"rule_{i + 1:04d}",
                "when": rule["when"] and {f: (opts[0] if len(opts) == 1 else opts) for f, opts in rule["when"].items()},
                "outcome": rule["outcome"],
                "sources": [sources[i % len(sources)]],
                "confidence": confidences[i % 3] if rule["when"] else "low",
            }
            for i, rule in enumerate(rules)
        ],
    }


def _yaml(value: Any, indent: int = 0) -> list[str]:
    """Block YAML laid out as rules/decree-821.yaml is: every string double-quoted, id lists in flow style."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                lines += [f"{pad}{key}:", *_yaml(item, indent + 2)]
            elif isinstance(item, dict):
                lines.append(f"{pad}{key}: {{}}")
            elif isinstance(item, list) and item and isinstance(item[0], dict):
                lines += [f"{pad}{key}:", *_yaml(item, indent + 2)]
            elif isinstance(item, list):
                lines.append(f"{pad}{key}: [{', '.join(json.dumps(x, ensure_ascii=False) for x in item)}]")
            else:
                lines.append(f"{pad}{key}: {json.dumps(item, ensure_ascii=False)}")
    else:
        for item in value:
            block = _yaml(item, indent + 2)
            lines += [f"{pad}- {block[0].lstrip()}", *block[1:]]
    return lines


def write_table(data: dict[str, Any], path: Path) -> None:
    text = "\n".join(_yaml(data)) + "\n"
    path.write_text(text, encoding="utf-8")
    assert yaml.safe_load(text)["rules"][-1]["when"] == {}


# Measuring -----------------------------------------------------------------------------------


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def random_conversations(engine: Engine, count: int, rng: random.Random) -> list[list[tuple[str, str]]]:
    """``count`` complete conversations drawn uniformly from every distinct one the table allows.

    (Choosing each answer at random instead would end most conversations at the first questions,
    "a woman" or "under 18", and measure next to nothing of the table.)
    """
    every = [list(session.answers.items()) for session, _ in engine.conversations()]
    return [rng.choice(every) for _ in range(count)]


def play(engine: Engine, answers: list[tuple[str, str]]) -> tuple[float, float]:
    """Time one conversation: the first step, then the answers (each answer() plus the next step())."""
    t0 = time.perf_counter()
    session = engine.new_session()
    step = engine.step(session)
    t1 = time.perf_counter()
    for fact_id, option in answers:
        assert isinstance(step, Question)
        assert step.fact.id == fact_id
        session = engine.answer(session, fact_id, option)
        step = engine.step(session)
    t2 = time.perf_counter()
    assert isinstance(step, Decision)
    return t1 - t0, t2 - t1


def _us(seconds: float) -> float:
    return round(seconds * 1e6, 2)


def measure(path: Path, label: str, args: argparse.Namespace, deadline: float) -> dict[str, Any]:
    """Every figure for one table file."""
    loads, checks = [], []
    report = None
    table: Table | None = None
    for _ in range(args.repeats):
        gc.collect()
        seconds, table = _timed(lambda: load_table(path))
        loads.append(seconds)
        gc.collect()
        seconds, report = _timed(lambda t=table: check_table(t))
        checks.append(seconds)
        if time.monotonic() > deadline:
            break
    assert table is not None
    assert report is not None
    if not report.ok:
        raise RuntimeError(f"{label}: check found problems: " + "; ".join(str(p) for p in report.problems[:5]))
    assert report.summary is not None
    probe = Engine(table)
    rng = random.Random(args.seed)  # noqa: S311 - reproducible, not secret
    conversations = random_conversations(probe, args.conversations, rng)
    states = probe._deciders.cache_info().currsize, probe._remaining.cache_info().currsize
    answers = sum(len(c) for c in conversations)
    cold_first, cold_rest = [], []
    for conv in conversations[: args.cold]:
        first, rest = play(Engine(table), conv)
        cold_first.append(first)
        cold_rest.append(rest)
        if time.monotonic() > deadline:
            break
    cold_answers = sum(len(c) for c in conversations[: len(cold_rest)])
    warm_engine = Engine(table)
    for conv in conversations:  # fill the caches
        play(warm_engine, conv)
    # Several passes; the fastest is the one least disturbed by other work on the machine.
    passes = []
    for _ in range(args.warm_passes):
        warm_first, warm_rest = [], []
        for conv in conversations:
            first, rest = play(warm_engine, conv)
            warm_first.append(first)
            warm_rest.append(rest)
        passes.append((sum(warm_rest), statistics.median(warm_first)))
    warm_total, warm_first_median = min(passes)
    s = report.summary
    result = {
        "table": label,
        "rules": s.rules,
        "facts": s.questions,
        "options": sum(len(f.options) for f in table.facts),
        "largest_fact_options": max(len(f.options) for f in table.facts),
        "outcomes": s.outcomes,
        "conditions_per_rule": {
            "min": min(len(r.when) for r in table.rules[:-1]),
            "max": max(len(r.when) for r in table.rules[:-1]),
            "mean": round(statistics.mean(len(r.when) for r in table.rules[:-1]), 2),
        },
        "conversations": s.conversations,
        "longest_conversation": s.longest,
        "engine_states_after_exploring": {"deciders": states[0], "remaining": states[1]},
        "file_kib": round(path.stat().st_size / 1024, 1),
        "check_ok": report.ok,
        "load_s": {"min": round(min(loads), 5), "median": round(statistics.median(loads), 5), "runs": len(loads)},
        "check_s": {"min": round(min(checks), 5), "median": round(statistics.median(checks), 5), "runs": len(checks)},
        "load_and_check_s": round(min(loads) + min(checks), 5),
        "random_conversations": len(conversations),
        "random_conversations_drawn": "uniformly from every distinct conversation (with replacement)",
        "mean_answers_per_conversation": round(answers / len(conversations), 2),
        "cold": {
            "conversations": len(cold_rest),
            "first_step_us": {"median": _us(statistics.median(cold_first)), "max": _us(max(cold_first))},
            "per_answer_us": _us(sum(cold_rest) / max(1, cold_answers)),
            "whole_conversation_us_median": _us(
                statistics.median(f + r for f, r in zip(cold_first, cold_rest, strict=True))
            ),
        },
        "warm": {
            "conversations": len(conversations),
            "passes": len(passes),
            "first_step_us_median": _us(warm_first_median),
            "per_answer_us": _us(warm_total / max(1, answers)),
            "per_answer_us_slowest_pass": _us(max(p[0] for p in passes) / max(1, answers)),
        },
        "what_if_next_cached": {
            "what": "warm per answer with Engine._next memoised like _deciders and _remaining (a subclass "
            "here; bot/core/engine.py is unchanged)",
            "per_answer_us": _us(_warm_per_answer(CachedNextEngine(table), conversations, args.warm_passes)),
        },
    }
    return result


#: Was a what-if (the next-question choice cached per answer set); Engine now does it itself.
CachedNextEngine = Engine


def _warm_per_answer(engine: Engine, conversations: list[list[tuple[str, str]]], passes: int) -> float:
    for conv in conversations:  # fill the caches
        play(engine, conv)
    answers = max(1, sum(len(c) for c in conversations))
    return min(sum(play(engine, conv)[1] for conv in conversations) for _ in range(passes)) / answers


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b > 0 else None


def ratios(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Each size against the one before it, and whether per-answer time grows no worse than linearly."""
    out: dict[str, Any] = {}
    for small, big in itertools.pairwise(results):
        growth = big["rules"] / small["rules"]
        figures = {
            "rules": round(growth, 2),
            "conversations": _ratio(big["conversations"], small["conversations"]),
            "load_s": _ratio(big["load_s"]["min"], small["load_s"]["min"]),
            "check_s": _ratio(big["check_s"]["min"], small["check_s"]["min"]),
            "load_and_check_s": _ratio(big["load_and_check_s"], small["load_and_check_s"]),
            "cold_first_step": _ratio(big["cold"]["first_step_us"]["median"], small["cold"]["first_step_us"]["median"]),
            "cold_per_answer": _ratio(big["cold"]["per_answer_us"], small["cold"]["per_answer_us"]),
            "cold_whole_conversation": _ratio(
                big["cold"]["whole_conversation_us_median"], small["cold"]["whole_conversation_us_median"]
            ),
            "warm_per_answer": _ratio(big["warm"]["per_answer_us"], small["warm"]["per_answer_us"]),
            "what_if_next_cached_warm_per_answer": _ratio(
                big["what_if_next_cached"]["per_answer_us"], small["what_if_next_cached"]["per_answer_us"]
            ),
        }
        figures["per_answer_no_worse_than_linear"] = {
            key: (figures[key] is not None and figures[key] <= growth) for key in TARGET_FIGURES
        }
        out[f"{big['rules']}/{small['rules']}"] = figures
    return out


# Where exploration explodes ---------------------------------------------------------------------


class _Capped(Exception):
    """The time cap of one probe ran out."""


def cross_cutting_table(rules: int, facts: int = 20, options: int = 3, seed: int = 1) -> Table:
    """An unstructured table: each rule tests 1 to 4 facts picked at random, not a tree.

    Not a table anyone should write (many rules would be shadowed); it shows what the engine's
    exploration costs when rules' conditions cut across each other instead of nesting.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible, not secret
    day = dt.date(2026, 11, 21)
    fact_list = tuple(
        Fact(f"fact_{i}", f"Question {i}?", tuple(Option(f"option_{j}", f"Answer {j}") for j in range(options)))
        for i in range(facts)
    )
    outcome_ids = [f"outcome_{i}" for i in range(max(2, rules // 4))]
    outcomes = {o: Outcome(o, "unclear", "Headline.", "Explanation.", day, sources=("source",)) for o in outcome_ids}
    rule_list = []
    for i in range(rules - 1):
        chosen = rng.sample(range(facts), rng.randint(1, 4))
        when = {
            f"fact_{f}": frozenset(rng.sample([f"option_{j}" for j in range(options)], rng.randint(1, options - 1)))
            for f in chosen
        }
        rule_list.append(
            Rule(f"rule_{i}", MappingProxyType(when), outcome_ids[i % len(outcome_ids)], ("source",), "high")
        )
    rule_list.append(Rule("catch_all", MappingProxyType({}), outcome_ids[0], ("source",), "low"))
    empty: MappingProxyType[str, Any] = MappingProxyType({})
    return Table(
        path="<cross-cutting>",
        meta=Meta("cross-cutting", "Cross-cutting", "1", day, "Not advice."),
        sources=empty,
        facts=fact_list,
        documents=empty,
        actions=empty,
        unknowns=empty,
        help=empty,
        notes=(),
        outcomes=MappingProxyType(outcomes),
        rules=tuple(rule_list),
    )


def explosion_probe(sizes: Sequence[int], seeds: Sequence[int], cap_s: float) -> list[dict[str, Any]]:
    """Explore cross-cutting tables of growing size, each under a time cap (SIGALRM)."""

    def expire(signum: int, frame: Any) -> None:
        raise _Capped

    previous = signal.signal(signal.SIGALRM, expire)
    found = []
    try:
        for rules in sizes:
            for seed in seeds:
                engine = Engine(cross_cutting_table(rules, seed=seed))
                count = longest = 0
                start = time.perf_counter()
                signal.setitimer(signal.ITIMER_REAL, cap_s)
                refused = False
                try:
                    for session, _ in engine.conversations():
                        count += 1
                        longest = max(longest, len(session.answers))
                    finished = True
                except _Capped:
                    finished = False
                except TooEntangled:
                    finished, refused = False, True
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                info = engine._deciders.cache_info()
                found.append(
                    {
                        "rules": rules,
                        "seed": seed,
                        "finished": finished,
                        "seconds": round(time.perf_counter() - start, 3),
                        "conversations": count if finished else None,
                        "conversations_before_cap": None if finished else count,
                        "longest": longest,
                        "decider_states_computed": info.misses,
                        "refused_too_entangled": refused,
                    }
                )
                print(f"  cross-cutting {rules} rules, seed {seed}: {found[-1]}", flush=True)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    deadline = started + args.budget
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
        reference = measure(RULES, "rules/decree-821.yaml (shipped)", args, deadline)
        _print(reference)
        for size in args.sizes:
            path = Path(tmp) / f"synthetic-{size.rules}.yaml"
            seconds, data = _timed(lambda size=size: generate_table(size, args.seed))
            write_table(data, path)
            print(f"… generated {path.name}: {len(data['rules'])} rules in {seconds:.2f} s", flush=True)
            result = measure(path, f"synthetic, {size.rules} rules", args, deadline)
            result["generated"] = {"facts": size.facts, "countries": size.countries + 1, "seed": args.seed}
            results.append(result)
            _print(result)
    print(f"… cross-cutting tables (20 facts of 3 options, rules of 1-4 random conditions), cap {args.probe_cap} s")
    probe = explosion_probe(args.probe_sizes, args.probe_seeds, args.probe_cap) if args.probe_sizes else []
    growth = ratios(results)
    for name, figures in growth.items():
        print(f"ratios {name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
    linear = all(all(f["per_answer_no_worse_than_linear"].values()) for f in growth.values())
    return {
        "benchmark": "rules",
        "title": "Rule table growth: load, check and per-answer engine time for 10, 100 and 1,000 rules",
        "machine": machine(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": args.command,
        "setup": {
            "tables": "generated in a temporary directory by benchmarks/bench_rules.generate_table (seeded), "
            "verified by bot.ruletable.check.check_table; not committed",
            "load": "bot.ruletable.loader.load_table",
            "check": "bot.ruletable.check.check_table (explores every distinct conversation)",
            "cold": "a fresh bot.core.engine.Engine per conversation: step() for the first question, then "
            "answer() + step() per answer",
            "warm": "one Engine, caches filled by one pass over the same conversations; the fastest of "
            f"{args.warm_passes} further passes",
            "repeats": args.repeats,
            "baseline": "the smallest generated table, measured in the same run; the shipped table for reference",
        },
        "run_seconds": round(time.monotonic() - started, 1),
        "load_average_1_5_15": {"at_start": load_at_start, "at_end": [round(x, 2) for x in os.getloadavg()]},
        "reference": reference,
        "sizes": results,
        "ratios": growth,
        "cross_cutting_probe": {
            "what": "bot.core.engine.Engine.conversations() (what check_table runs) over unstructured tables: 20 facts "
            "of 3 options, each rule 1-4 conditions on random facts (not nested), catch-all last; "
            f"stopped after {args.probe_cap} s, or refused by bot.core.engine.EXPLORATION_BUDGET",
            "runs": probe,
        },
        "target": "per-answer engine time grows no worse than linearly in the number of rules",
        "target_met": linear,
        "target_detail": {
            name: {key: figures[key] for key in ("rules", *TARGET_FIGURES)} for name, figures in growth.items()
        },
        "target_note": "per answer: warm_per_answer (a running bot: start-up's check explored the table) and "
        "cold_per_answer (a fresh engine, from its second step). Not per answer, so not in the target, but "
        "reported with its growth: a fresh engine's first step explores the whole table once "
        "(cold_first_step, and cold_whole_conversation which includes it); a running bot does that at "
        "start-up and on reload, as part of load-and-check",
        "one_time_exploration_growth": {
            name: {key: figures[key] for key in ("rules", "cold_first_step", "cold_whole_conversation", "check_s")}
            for name, figures in growth.items()
        },
    }


def _print(r: dict[str, Any]) -> None:
    print(
        f"{r['table']:>32}: {r['rules']} rules, {r['facts']} facts ({r['options']} options), {r['outcomes']} outcomes, "
        f"{r['conversations']} conversations (longest {r['longest_conversation']}); load {r['load_s']['min']:.4f} s, "
        f"check {r['check_s']['min']:.4f} s; cold first step {r['cold']['first_step_us']['median']} us, "
        f"cold per answer {r['cold']['per_answer_us']} us, warm per answer {r['warm']['per_answer_us']} us "
        f"(with _next cached: {r['what_if_next_cached']['per_answer_us']} us)",
        flush=True,
    )


def _size(text: str) -> Size:
    rules, _, rest = text.partition(":")
    facts, _, countries = rest.partition(":")
    return Size(int(rules), int(facts or 12), int(countries or 30))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="10, 100 and 1,000 rules (the default)")
    mode.add_argument("--smoke", action="store_true", help="10 and 30 rules, a few seconds (for the test suite)")
    parser.add_argument(
        "--size", action="append", type=_size, metavar="RULES[:FACTS[:COUNTRIES]]", help="a table size (repeatable)"
    )
    parser.add_argument("--repeats", type=int, help="load and check each table this many times (min is reported)")
    parser.add_argument("--conversations", type=int, help="random complete conversations per table (warm)")
    parser.add_argument("--cold", type=int, help="how many of them to play on a fresh engine each")
    parser.add_argument("--warm-passes", type=int, help="passes over the conversations on the warm engine")
    parser.add_argument("--seed", type=int, default=821)
    parser.add_argument("--budget", type=float, default=240.0, help="stop repeating after this many seconds")
    parser.add_argument("--probe-cap", type=float, help="seconds allowed per cross-cutting table")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    args.probe_sizes = (4, 6) if args.smoke else (6, 8, 10, 12)
    args.probe_seeds = (1,) if args.smoke else (1, 2, 3)
    args.probe_cap = args.probe_cap or (2.0 if args.smoke else 5.0)
    args.sizes = tuple(args.size) if args.size else (SIZES_SMOKE if args.smoke else SIZES_FULL)
    args.repeats = args.repeats or (1 if args.smoke else 5)
    args.conversations = args.conversations or (20 if args.smoke else 200)
    args.cold = args.cold or (5 if args.smoke else 30)
    args.warm_passes = args.warm_passes or (1 if args.smoke else 7)
    args.command = "python -m benchmarks.bench_rules " + shlex.join(argv if argv is not None else sys.argv[1:])
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    report = run(args)
    report = write_results(report, args.out)
    return report


if __name__ == "__main__":
    main()
