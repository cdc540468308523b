"""Rule table growth: how loading, checking and answering scale from 10 to 1,000 rules.

Synthetic but realistic rule tables are generated in a temporary directory (never committed), shaped
like ``rules/decree-821.yaml``: a few early exclusions on one fact each (women, age, one country),
then, per group of countries of a citizenship question with many countries, a tree of rules over
the other facts, each rule with 1 to 4 conditions, a catch-all last. Rules are disjoint regions of
that tree, so none is shadowed; sibling rules lead to different outcomes, so every question on the
way is asked and every outcome reached. Each table passes ``bot.ruletable.check.check_table`` (what
``maslahat check`` runs) before it is measured.

Measured for each size (and for the shipped table as a reference point): load (``load_table``),
check (``check_table``, which explores every distinct conversation); per answer, **cold**: complete
conversations drawn uniformly from every distinct one, each on a fresh ``Engine`` (its first step,
which explores the whole table once, reported on its own), and **warm**: the same conversations on
one engine whose caches are filled (the fastest of several passes). And, to show where exploring
explodes, a probe over tables whose rules' conditions cut across each other instead of nesting.

The target: per-answer time grows no worse than linearly in the number of rules (a ratio of at most
10 for ten times as many rules), ratios from figures measured in the same run.

    .venv/bin/python -m benchmarks.bench_rules            # --full: 10, 100 and 1,000 rules
    .venv/bin/python -m benchmarks.bench_rules --smoke    # 10 and 30 rules, a few seconds
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import itertools
import json
import os
import random
import signal
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from benchmarks.harness.measure import ratio
from benchmarks.harness.results import ROOT, parse, run_benchmark
from bot.core.engine import Decision, Engine, Question, TooEntangled
from bot.core.table import Fact, Meta, Option, Outcome, Rule, Table
from bot.ruletable.check import check_table
from bot.ruletable.loader import load_table

TITLE = "Rule table growth: load, check and per-answer engine time for 10, 100 and 1,000 rules"
RULES = ROOT / "rules" / "decree-821.yaml"

#: What the synthetic tables are made of apart from their rules: facts, countries, texts (data, not code).
DATA: dict[str, Any] = yaml.safe_load((ROOT / "benchmarks" / "synthetic-table.yaml").read_text(encoding="utf-8"))
FACT_POOL: list[tuple[str, str, list[tuple[str, str]]]] = [(f, q, list(o.items())) for f, q, o in DATA["facts"]]


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
FULL: dict[str, Any] = {
    "tables": ((10, 6, 12), (100, 12, 30), (1000, 20, 60)),  # (rules, facts, countries)
    "repeats": 5,  # load and check each table this many times (the fastest is reported)
    "conversations": 200,  # random complete conversations per table (warm)
    "cold": 30,  # how many of them to play on a fresh engine each
    "warm_passes": 7,
    "seed": 821,
    "budget_s": 240.0,  # stop repeating after this
    "probe_sizes": (6, 8, 10, 12),
    "probe_seeds": (1, 2, 3),
    "probe_cap_s": 5.0,  # per cross-cutting table
    "hard_timeout_s": 900.0,
}
SMOKE = {**FULL, "tables": ((10, 6, 12), (30, 8, 16)), "repeats": 1, "conversations": 20, "cold": 5, "warm_passes": 1}
SMOKE.update(probe_sizes=(4, 6), probe_seeds=(1,), probe_cap_s=2.0)


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
    countries = [(_slug(c), c) for c in DATA["countries"][: size.countries]] + [("other", "Another country")]
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
    first_rule: dict[str, dict[str, Any]] = {}
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
            "headline": f"{DATA['headlines'][verdict]} (case {index + 1}).",
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
    meta = {"id": f"synthetic-{size.rules}", "title": f"A synthetic rule table of {size.rules} rules", **DATA["meta"]}
    return {
        "meta": meta,
        "sources": [
            {
                "id": s,
                "title": f"Source number {i + 1}",
                "url": f"https://example.org/source/{i + 1}",
                "date": "2025-12",
                "grade": "B",
            }
            for i, s in enumerate(sources)
        ],
        "facts": [
            {"id": f, "question": q, "options": [{"id": o, "label": label} for o, label in options]}
            for f, q, options in facts
        ],
        **{key: DATA[key] for key in ("documents", "actions", "unknowns", "help")},
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
    """``count`` complete conversations drawn uniformly from every distinct one the table allows."""
    # (Each answer at random would end most conversations at "a woman" or "under 18" and measure
    # next to nothing of the table.)
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


def measure(path: Path, label: str, s: dict[str, Any], deadline: float) -> dict[str, Any]:
    """Every figure for one table file."""
    loads, checks = [], []
    for _ in range(s["repeats"]):
        gc.collect()
        seconds, table = _timed(lambda: load_table(path))
        loads.append(seconds)
        gc.collect()
        seconds, report = _timed(functools.partial(check_table, table))
        checks.append(seconds)
        if time.monotonic() > deadline:
            break
    if not report.ok or report.summary is None:
        raise RuntimeError(f"{label}: check found problems: " + "; ".join(str(p) for p in report.problems[:5]))
    probe = Engine(table)
    conversations = random_conversations(probe, s["conversations"], random.Random(s["seed"]))  # noqa: S311
    answers = sum(len(c) for c in conversations)
    cold_first, cold_rest = [], []
    for conv in conversations[: s["cold"]]:
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
    for _ in range(s["warm_passes"]):
        timed = [play(warm_engine, conv) for conv in conversations]
        passes.append((sum(rest for _, rest in timed), statistics.median(first for first, _ in timed)))
    summary, whens = report.summary, [len(r.when) for r in table.rules[:-1]]
    return {
        "table": label,
        "rules": summary.rules,
        "facts": summary.questions,
        "options": sum(len(f.options) for f in table.facts),
        "largest_fact_options": max(len(f.options) for f in table.facts),
        "outcomes": summary.outcomes,
        "conditions_per_rule": {"min": min(whens), "max": max(whens), "mean": round(statistics.mean(whens), 2)},
        "conversations": summary.conversations,
        "longest_conversation": summary.longest,
        "engine_states_after_exploring": {
            "deciders": probe._deciders.cache_info().currsize,
            "remaining": probe._remaining.cache_info().currsize,
        },
        "file_kib": round(path.stat().st_size / 1024, 1),
        "check_ok": report.ok,
        "load_s": {"min": round(min(loads), 5), "median": round(statistics.median(loads), 5), "runs": len(loads)},
        "check_s": {"min": round(min(checks), 5), "median": round(statistics.median(checks), 5), "runs": len(checks)},
        "load_and_check_s": round(min(loads) + min(checks), 5),
        "random_conversations": len(conversations),
        "mean_answers_per_conversation": round(answers / len(conversations), 2),
        "cold": {
            "conversations": len(cold_rest),
            "first_step_us": {"median": _us(statistics.median(cold_first)), "max": _us(max(cold_first))},
            "per_answer_us": _us(sum(cold_rest) / max(1, cold_answers)),
            "whole_conversation_us_median": _us(statistics.median(map(sum, zip(cold_first, cold_rest, strict=True)))),
        },
        "warm": {
            "conversations": len(conversations),
            "passes": len(passes),
            "first_step_us_median": _us(min(passes)[1]),
            "per_answer_us": _us(min(passes)[0] / max(1, answers)),
            "per_answer_us_slowest_pass": _us(max(p[0] for p in passes) / max(1, answers)),
        },
    }


def ratios(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Each size against the one before it, and whether per-answer time grows no worse than linearly."""
    out: dict[str, Any] = {}
    for small, big in itertools.pairwise(results):
        growth = big["rules"] / small["rules"]

        def of(*keys: str, big: dict[str, Any] = big, small: dict[str, Any] = small) -> float:
            a: Any = big
            b: Any = small
            for key in keys:
                a, b = a[key], b[key]
            return ratio(a, b, 2)

        figures: dict[str, Any] = {
            "rules": round(growth, 2),
            "conversations": of("conversations"),
            "load_s": of("load_s", "min"),
            "check_s": of("check_s", "min"),
            "load_and_check_s": of("load_and_check_s"),
            "cold_first_step": of("cold", "first_step_us", "median"),
            "cold_per_answer": of("cold", "per_answer_us"),
            "cold_whole_conversation": of("cold", "whole_conversation_us_median"),
            "warm_per_answer": of("warm", "per_answer_us"),
        }
        figures["per_answer_no_worse_than_linear"] = {key: figures[key] <= growth for key in TARGET_FIGURES}
        out[f"{big['rules']}/{small['rules']}"] = figures
    return out


# Where exploration explodes ---------------------------------------------------------------------


class _Capped(Exception):
    """The time cap of one probe ran out."""


def cross_cutting_table(rules: int, seed: int, facts: int = 20, options: int = 3) -> Table:
    """An unstructured table: each rule tests 1 to 4 facts picked at random, not a tree (nobody should write one)."""
    # It shows what the engine's exploration costs when rules' conditions cut across each other.
    rng, day, ids = random.Random(seed), dt.date(2026, 11, 21), [f"option_{j}" for j in range(options)]  # noqa: S311
    outcomes = [f"outcome_{i}" for i in range(max(2, rules // 4))]
    rule_list = [
        Rule(
            f"rule_{i}",
            MappingProxyType(
                {
                    f"fact_{f}": frozenset(rng.sample(ids, rng.randint(1, options - 1)))
                    for f in rng.sample(range(facts), rng.randint(1, 4))
                }
            ),
            outcomes[i % len(outcomes)],
            ("source",),
            "high",
        )
        for i in range(rules - 1)
    ]
    empty: MappingProxyType[str, Any] = MappingProxyType({})
    return Table(
        path="<cross-cutting>",
        meta=Meta("cross-cutting", "Cross-cutting", "1", day, "Not advice."),
        facts=tuple(Fact(f"fact_{i}", f"Question {i}?", tuple(Option(o, o) for o in ids)) for i in range(facts)),
        outcomes=MappingProxyType(
            {o: Outcome(o, "unclear", "Headline.", "Explanation.", day, ("source",)) for o in outcomes}
        ),
        rules=(*rule_list, Rule("catch_all", empty, outcomes[0], ("source",), "low")),
        notes=(),
        **dict.fromkeys(("sources", "documents", "actions", "unknowns", "help"), empty),
    )


def explosion_probe(sizes: Sequence[int], seeds: Sequence[int], cap_s: float) -> list[dict[str, Any]]:
    """Explore cross-cutting tables of growing size, each under a time cap (SIGALRM): finished, capped or refused."""

    def expire(signum: int, frame: Any) -> None:
        raise _Capped

    previous, found = signal.signal(signal.SIGALRM, expire), []
    try:
        for rules, seed in itertools.product(sizes, seeds):
            engine, count, longest, outcome = Engine(cross_cutting_table(rules, seed)), 0, 0, "finished"
            start = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, cap_s)
            try:
                for session, _ in engine.conversations():
                    count, longest = count + 1, max(longest, len(session.answers))
            except _Capped:
                outcome = "capped"
            except TooEntangled:
                outcome = "refused: too entangled"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            found.append(
                {"rules": rules, "seed": seed, "outcome": outcome, "seconds": round(time.perf_counter() - start, 3)}
            )
            found[-1].update(conversations=count, longest=longest, decider_states=engine._deciders.cache_info().misses)
            print(f"  cross-cutting {rules} rules, seed {seed}: {found[-1]}", flush=True)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The shipped table and each generated size, then the probe; growth ratios and the target."""
    s = args.sizes
    deadline = time.monotonic() + s["budget_s"]
    results: list[dict[str, Any]] = []
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
        reference = measure(RULES, "rules/decree-821.yaml (shipped)", s, deadline)
        for size in (Size(*t) for t in s["tables"]):
            path = Path(tmp) / f"synthetic-{size.rules}.yaml"
            seconds, data = _timed(functools.partial(generate_table, size, s["seed"]))
            write_table(data, path)
            results.append(measure(path, f"synthetic, {size.rules} rules", s, deadline))
            results[-1]["generated"] = {"facts": size.facts, "countries": size.countries + 1, "seed": s["seed"]}
            r = results[-1]
            print(
                f"{r['rules']:>5} rules ({seconds:.2f} s to generate): {r['conversations']} conversations; load "
                f"{r['load_s']['min']:.4f} s, check {r['check_s']['min']:.4f} s; cold first step "
                f"{r['cold']['first_step_us']['median']} us, per answer cold {r['cold']['per_answer_us']} us, "
                f"warm {r['warm']['per_answer_us']} us",
                flush=True,
            )
    print(f"… cross-cutting tables (20 facts of 3 options, rules of 1-4 random conditions), cap {s['probe_cap_s']} s")
    probe = explosion_probe(s["probe_sizes"], s["probe_seeds"], s["probe_cap_s"])
    growth = ratios(results)
    return {
        "setup": {
            "tables": "generated by benchmarks/bench_rules.generate_table (seeded), verified by check_table",
            "cold": "a fresh Engine per conversation: step() for the first question, then answer() + step() per answer",
            "warm": "one Engine, caches filled by one pass; the fastest of the further passes",
            "baseline": "the smallest generated table, measured in the same run; the shipped table for reference",
        },
        "load_average_1_5_15": {"at_start": load_at_start, "at_end": [round(x, 2) for x in os.getloadavg()]},
        "reference": reference,
        "sizes": results,
        "ratios": growth,
        "cross_cutting_probe": {
            "what": "Engine.conversations() (what check_table runs) over unstructured tables: 20 facts of 3 "
            "options, each rule 1-4 conditions on random facts (not nested), catch-all last; stopped after "
            f"{s['probe_cap_s']} s, or refused by bot.core.engine.EXPLORATION_BUDGET",
            "runs": probe,
        },
        "target": "per-answer engine time grows no worse than linearly in the number of rules",
        "target_met": all(all(f["per_answer_no_worse_than_linear"].values()) for f in growth.values()),
        "target_note": "per answer: warm (a running bot: start-up's check explored the table) and cold (a fresh "
        "engine, from its second step); a fresh engine's first step explores the whole table once, as a running "
        "bot does at start-up and on reload: reported with its growth (cold_first_step), not in the target",
    }


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", action="append", metavar="RULES[:FACTS[:COUNTRIES]]", help="a table (repeatable)")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    args = parse("rules", __doc__ or "", FULL, SMOKE, argv, _options)
    if args.size:
        args.sizes["tables"] = tuple(tuple(int(x) for x in (t + ":12:30").split(":")[:3]) for t in args.size)
    return run_benchmark("rules", TITLE, args, run)


if __name__ == "__main__":
    main()
