"""Rule table growth: how loading, checking and answering scale from 10 to 1,000 rules.

Measured on the shipped table and on generated ones shaped like it (``generate_table``): load and check
time, and per answer **cold** (a fresh ``Engine`` per conversation; its first step, which explores the
whole table, on its own) and **warm** (one engine, caches filled). Target: per-answer time grows no
worse than linearly in the number of rules. A probe shows where exploring explodes.

    .venv/bin/python -m benchmarks.bench_rules            # --full: 10, 100 and 1,000 rules
    .venv/bin/python -m benchmarks.bench_rules --smoke    # 10 and 30 rules, a few seconds
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import os
import random
import signal
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from benchmarks.harness.measure import ratio, spread
from benchmarks.harness.results import ROOT, parse, run_benchmark
from bot.core.engine import Decision, Engine, Question, TooEntangled
from bot.core.table import Table
from bot.ruletable.check import check_table
from bot.ruletable.loader import load_table, parse_table

TITLE = "Rule table growth: load, check and per-answer engine time for 10, 100 and 1,000 rules"

#: What the synthetic tables are made of apart from their rules: facts, countries, texts (data, not code).
DATA: dict[str, Any] = yaml.safe_load((ROOT / "benchmarks" / "synthetic-table.yaml").read_text(encoding="utf-8"))
FactSpec = tuple[str, str, list[tuple[str, str]]]  # id, question, [(option id, label)]
FACT_POOL: list[FactSpec] = [(f, q, list(o.items())) for f, q, o in DATA["facts"]]


class Size(NamedTuple):
    """One generated table's shape."""

    rules: int
    facts: int
    countries: int


#: The target's figures; a fresh engine's first step explores the table once, as start-up does: not in it.
TARGET_FIGURES = ("warm_per_answer", "cold_per_answer")
MET = ("affected", "requirement_met")  # verdicts whose outcomes say what satisfies the requirement
#: Each table (rules, facts, countries) is loaded and checked ``repeats`` times (the fastest compared);
#: ``conversations`` complete ones are played on a warm engine, the first ``cold`` of them each on a fresh one.
FULL: dict[str, Any] = {"tables": ((10, 6, 12), (100, 12, 30), (1000, 20, 60)), "repeats": 5, "conversations": 200}
FULL.update(cold=30, warm_passes=7, seed=821, budget_s=240.0, hard_timeout_s=900.0)  # budget_s: stop repeating
FULL.update(probe_sizes=(6, 8, 10, 12), probe_seeds=(1, 2, 3), probe_cap_s=5.0)  # cap: per cross-cutting table
SMOKE = {**FULL, "tables": ((10, 6, 12), (30, 8, 16)), "repeats": 1, "conversations": 20, "cold": 5, "warm_passes": 1}
SMOKE.update(probe_sizes=(4, 6), probe_seeds=(1,), probe_cap_s=2.0)


# Generating a table ----------------------------------------------------------------------------


def _split(rng: random.Random, items: list[str], parts: int) -> list[list[str]]:
    cuts = sorted(rng.sample(range(1, len(items)), parts - 1))
    return [items[a:b] for a, b in zip([0, *cuts], [*cuts, len(items)], strict=True)]


def generate_table(size: Size, seed: int = 821) -> dict[str, Any]:
    """Exactly ``size.rules`` rules: exclusions, per group of countries a tree of 1-4 conditions, a catch-all."""
    rng = random.Random(seed * 1_000_003 + size.rules)  # noqa: S311 - reproducible, not secret
    countries = [(c.lower().replace(" ", "_"), c) for c in DATA["countries"][: size.countries]]
    countries.append(("other", "Another country"))  # left to the catch-all
    pool = [(f, q, countries if f == "citizenship" else o) for f, q, o in FACT_POOL[: size.facts]]
    # Early exclusions on one fact each, each with its own outcome, as in the shipped table.
    exclusions = [("sex", ["female"]), ("age", ["under_18", "over_65"]), ("citizenship", ["belarus"])]
    rules = [{"when": {f: o}, "outcome": f"not_affected_{f}"} for f, o in exclusions[: 2 + (size.rules >= 30)]]
    cycle = ["affected", "requirement_met", "not_affected", "affected", "unclear"]
    outcomes = [f"{cycle[i % len(cycle)]}_{i + 1:04d}" for i in range(max(4, size.rules // 4))]
    used = dict.fromkeys((f for f, _, _ in pool), 0)  # how often each fact was split on

    def tree(when: dict[str, list[str]], facts: list[FactSpec], n: int) -> None:
        """Exactly ``n`` rules in the region ``when``: split on the first fact, its groups on the rest."""
        if n == 1:
            rules.append({"when": when, "outcome": outcomes[len(rules) % len(outcomes)]})  # consecutive ones differ
            return
        room = math.prod(len(options) for _, _, options in facts[1:])
        if not facts or n > len(facts[0][2]) * room:
            raise RuntimeError(f"a table of {size.rules} rules needs more facts or countries than {size}")
        fact, order = facts[0][0], [o for o, _ in facts[0][2]]
        used[fact] += 1
        parts = rng.randint(max(2, -(-n // room)), min(n, len(order)))
        ids = rng.sample(order, len(order) - (parts < len(order) and rng.random() < 0.3))  # one left to catch-all
        for i, group in enumerate(_split(rng, ids, parts)):
            tree({**when, fact: sorted(group, key=order.index)}, facts[1:], n // parts + (i < n % parts))

    # Per group of countries, a tree over three more facts, the least used so far: every fact is asked.
    later = [f for f in pool if f[0] not in ("sex", "age", "citizenship")]
    treated = [c for c, _ in countries[:-1] if {"citizenship": [c]} not in [r["when"] for r in rules]]
    budget, order = size.rules - len(rules) - 1, [c for c, _ in countries]
    groups = _split(rng, rng.sample(treated, len(treated)), max(2, min(len(treated), round(budget / 8))))
    for i, group in enumerate(groups):
        facts = sorted(sorted(later, key=lambda f: (used[f[0]], rng.random()))[:3], key=later.index)
        share = budget // len(groups) + (i < budget % len(groups))
        tree({"citizenship": sorted(group, key=order.index)}, facts, share)
    rules.append({"when": {}, "outcome": "unclear_other"})
    return table_data(f"synthetic-{size.rules}", [f for f in pool if any(f[0] in r["when"] for r in rules)], rules)


def table_data(name: str, facts: list[FactSpec], rules: list[dict[str, Any]]) -> dict[str, Any]:
    """A whole table around facts and rules (``when``: fact -> option ids; outcome ids start with a verdict)."""
    facts_data = [{"id": f, "question": q, "options": [{"id": o, "label": t} for o, t in opts]} for f, q, opts in facts]
    questions = {f: q for f, q, _ in facts}
    labels = {(f, o): t for f, _, opts in facts for o, t in opts}
    sources, url = [f"source_{i}" for i in range(1, 6)], "https://example.org/"
    first_when = {rule["outcome"]: rule["when"] for rule in reversed(rules)}  # each outcome's first rule
    outcomes = []
    for i, (outcome, when) in enumerate(first_when.items()):
        verdict = outcome.rsplit("_", 1)[0]
        answered = "; ".join(f"{questions[f]} {' or '.join(labels[f, o] for o in opts)}" for f, opts in when.items())
        outcomes.append(
            {
                "id": outcome,
                "verdict": verdict,
                "headline": f"{DATA['headlines'][verdict]} (case {i + 1}).",
                "explanation": f"This answer is for people who answered: {answered or 'what no other rule covers'}.",
                "satisfies": (["army_contract", "discharge"] if i % 2 else ["unfitness"]) if verdict in MET else [],
                "actions": ["ask_before_deciding"] + (["keep_current_status"] if verdict == "affected" else []),
                "unknown": ["official_text"],
                "sources": [sources[i % len(sources)]],
                "help": ["migration_office"],
            }
        )
    listed = [{"id": f"rule_{i + 1:04d}", **rule, "sources": [sources[i % 5]]} for i, rule in enumerate(rules)]
    for i, rule in enumerate(listed):
        rule["confidence"] = ("high", "medium", "low")[i % 3] if rule["when"] else "low"
    return {
        "meta": {"id": name, "title": f"A synthetic rule table ({name})", **DATA["meta"]},
        "sources": [{"id": s, "title": s, "url": url + s, "date": "2025-12", "grade": "B"} for s in sources],
        "facts": facts_data,
        **{key: DATA[key] for key in ("documents", "actions", "unknowns", "help")},
        "outcomes": outcomes,
        "rules": listed,
    }


def write_table(data: dict[str, Any], path: Path) -> None:
    """Write a table's data as YAML (ids that YAML 1.1 would read as numbers or booleans quoted)."""
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")


# Measuring -----------------------------------------------------------------------------------


def play(engine: Engine, answers: list[tuple[str, str]]) -> tuple[float, float]:
    """Microseconds of one conversation: the first step, then the answers (each answer() plus the next step())."""
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
    return (t1 - t0) * 1e6, (t2 - t1) * 1e6


def measure(path: Path, label: str, s: dict[str, Any], deadline: float) -> dict[str, Any]:
    """Every figure for one table file."""
    loads, checks = [], []
    for _ in range(s["repeats"]):
        gc.collect()
        start = time.perf_counter()
        table = load_table(path)
        loads.append(time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        report = check_table(table)
        checks.append(time.perf_counter() - start)
        if time.monotonic() > deadline:
            break
    if not report.ok or report.summary is None:
        raise RuntimeError(f"{label}: check found problems: " + "; ".join(str(p) for p in report.problems[:5]))
    # Drawn uniformly from every distinct conversation (answers at random mostly end at "a woman").
    explorer, rng = Engine(table), random.Random(s["seed"])  # noqa: S311
    every = [list(session.answers.items()) for session, _ in explorer.conversations()]
    conversations = [rng.choice(every) for _ in range(s["conversations"])]
    cold = [play(Engine(table), conv) for conv in conversations[: s["cold"] if time.monotonic() < deadline else 1]]
    warm, answers = Engine(table), sum(map(len, conversations))
    # The first pass fills the caches; of the others, the fastest is the least disturbed by other work.
    passes = [sum(play(warm, conv)[1] for conv in conversations) for _ in range(s["warm_passes"] + 1)][1:]
    first_step = spread([first for first, _ in cold], 2)
    cold_per_answer = sum(rest for _, rest in cold) / max(1, sum(map(len, conversations[: len(cold)])))
    return {
        "table": label,
        "rules": report.summary.rules,
        "facts": report.summary.questions,
        "outcomes": report.summary.outcomes,
        "conversations": report.summary.conversations,
        "engine_states_after_exploring": explorer._deciders.cache_info().currsize,
        "load_s": spread(loads, 6),
        "check_s": spread(checks, 6),
        "load_and_check_s": round(min(loads) + min(checks), 6),
        "cold": {"conversations": len(cold), "first_step_us": first_step, "per_answer_us": round(cold_per_answer, 2)},
        "warm": {"conversations": len(conversations), "per_answer_us": round(min(passes) / max(1, answers), 2)},
    }


def ratios(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Each size against the one before it, and whether per-answer time grows no worse than linearly."""
    out: dict[str, Any] = {}
    for a, b in itertools.pairwise(results):
        growth = b["rules"] / a["rules"]
        figures: dict[str, Any] = {
            "rules": round(growth, 2),
            "conversations": ratio(b["conversations"], a["conversations"], 2),
            "load_s": ratio(b["load_s"]["min"], a["load_s"]["min"], 2),
            "check_s": ratio(b["check_s"]["min"], a["check_s"]["min"], 2),
            "load_and_check_s": ratio(b["load_and_check_s"], a["load_and_check_s"], 2),
            "cold_first_step": ratio(b["cold"]["first_step_us"]["median"], a["cold"]["first_step_us"]["median"], 2),
            "cold_per_answer": ratio(b["cold"]["per_answer_us"], a["cold"]["per_answer_us"], 2),
            "warm_per_answer": ratio(b["warm"]["per_answer_us"], a["warm"]["per_answer_us"], 2),
        }
        figures["per_answer_no_worse_than_linear"] = {key: figures[key] <= growth for key in TARGET_FIGURES}
        out[f"{b['rules']}/{a['rules']}"] = figures
    return out


# Where exploration explodes ---------------------------------------------------------------------


def cross_cutting_table(rules: int, seed: int, facts: int = 20, options: int = 3) -> Table:
    """An unstructured table: each rule tests 1 to 4 facts picked at random, not a tree (nobody should write one)."""
    rng, ids = random.Random(seed), [f"option_{j}" for j in range(options)]  # noqa: S311
    outcomes = [f"unclear_{i}" for i in range(max(2, rules // 4))]
    whens = [
        {f"fact_{f}": rng.sample(ids, rng.randint(1, options - 1)) for f in rng.sample(range(facts), rng.randint(1, 4))}
        for _ in range(rules - 1)
    ]
    listed = [{"when": w, "outcome": outcomes[i % len(outcomes)]} for i, w in enumerate(whens)]
    listed.append({"when": {}, "outcome": outcomes[0]})
    pool = [(f"fact_{i}", f"Question {i}?", [(o, o) for o in ids]) for i in range(facts)]
    return parse_table(yaml.safe_dump(table_data("cross-cutting", pool, listed)), "<cross-cutting>")


def _expire(signum: int, frame: Any) -> None:
    raise TimeoutError


def explosion_probe(sizes: Sequence[int], seeds: Sequence[int], cap_s: float) -> list[dict[str, Any]]:
    """Explore cross-cutting tables of growing size, each under a time cap (SIGALRM): finished, capped or refused."""
    previous, found = signal.signal(signal.SIGALRM, _expire), []
    try:
        for rules, seed in itertools.product(sizes, seeds):
            engine, count, longest, outcome = Engine(cross_cutting_table(rules, seed)), 0, 0, "finished"
            start = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, cap_s)
            try:
                for session, _ in engine.conversations():
                    count, longest = count + 1, max(longest, len(session.answers))
            except TimeoutError:
                outcome = "capped"
            except TooEntangled:
                outcome = "refused: too entangled"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            seconds, states = round(time.perf_counter() - start, 3), engine._deciders.cache_info().misses
            found.append({"rules": rules, "seed": seed, "outcome": outcome, "seconds": seconds})
            found[-1].update(conversations=count, longest=longest, decider_states=states)
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
        reference = measure(ROOT / "rules" / "decree-821.yaml", "rules/decree-821.yaml (shipped)", s, deadline)
        for size in (Size(*t) for t in s["tables"]):
            path = Path(tmp) / f"synthetic-{size.rules}.yaml"
            write_table(generate_table(size, s["seed"]), path)
            r = measure(path, f"synthetic, {size.rules} rules", s, deadline)
            results.append(r)
            print(f"{r['table']}: check {r['check_s']['min']} s; cold {r['cold']}; warm {r['warm']}", flush=True)
    print(f"… cross-cutting tables (20 facts of 3 options, rules of 1-4 random conditions), cap {s['probe_cap_s']} s")
    probe = explosion_probe(s["probe_sizes"], s["probe_seeds"], s["probe_cap_s"])
    growth = ratios(results)
    return {
        "setup": "cold: a fresh Engine per conversation; warm: one Engine, caches filled, the fastest of the passes",
        "load_average_1_5_15": {"at_start": load_at_start, "at_end": [round(x, 2) for x in os.getloadavg()]},
        "reference": reference,
        "sizes": results,
        "ratios": growth,
        "cross_cutting_probe": {
            "what": "Engine.conversations() (what check_table runs) over tables of 20 facts of 3 options, rules of 1-4 "
            f"random conditions (not nested): stopped after {s['probe_cap_s']} s, or refused by EXPLORATION_BUDGET",
            "runs": probe,
        },
        "target": "per-answer engine time grows no worse than linearly in the number of rules",
        "target_met": all(all(f["per_answer_no_worse_than_linear"].values()) for f in growth.values()),
        "target_note": "ratios against the size before, in the same run; per answer warm, and cold from a fresh "
        "engine's second step; its first step explores the table once: reported (cold_first_step), not in the target",
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
