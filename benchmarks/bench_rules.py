"""Rule table growth: how loading, checking and answering scale from 10 to 1,000 rules.

Measured on the shipped table and on generated ones shaped like it: load and check time; per answer **cold** (a
fresh ``Engine`` per conversation, its first step, which explores the table, apart) and **warm** (the engine that
explored it). Target: per-answer time grows no worse than linearly in the rules. A probe shows where exploring explodes.

    .venv/bin/python -m benchmarks.bench_rules            # 10, 100 and 1,000 rules
    .venv/bin/python -m benchmarks.bench_rules --smoke    # 10 and 30 rules, a few seconds
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from benchmarks.harness.measure import ratio, spread
from benchmarks.harness.results import ROOT, parse, run_benchmark
from bot.core.engine import Decision, Engine, TooEntangled
from bot.core.table import Table
from bot.ruletable.check import check_table
from bot.ruletable.loader import load_table, parse_table

TITLE = "Rule table growth: load, check and per-answer engine time for 10, 100 and 1,000 rules"

#: What the synthetic tables are made of apart from their rules: facts, countries, texts (data, not code).
DATA: dict[str, Any] = yaml.safe_load((ROOT / "benchmarks" / "synthetic-table.yaml").read_text(encoding="utf-8"))
FactSpec = tuple[str, str, list[tuple[str, str]]]  # id, question, [(option id, label)]
FACT_POOL: list[FactSpec] = [(f, q, list(o.items())) for f, q, o in DATA["facts"]]


MET = ("affected", "requirement_met")  # verdicts whose outcomes say what satisfies the requirement
#: Each table (rules, facts, countries) is loaded and checked ``repeats`` times (the fastest compared); every
#: conversation is played on one engine ``warm_passes`` + 1 times, ``cold`` of them (at random) each on a fresh one.
FULL: dict[str, Any] = {"tables": ((10, 6, 12), (100, 12, 30), (1000, 20, 60)), "repeats": 5, "warm_passes": 7}
FULL.update(cold=30, seed=821, hard_timeout_s=900.0, probe_sizes=(6, 8, 10, 12), probe_seeds=(1, 2, 3), probe_cap_s=5.0)
SMOKE = {**FULL, "tables": ((10, 6, 12), (30, 8, 16)), "repeats": 1, "cold": 5, "warm_passes": 1}
SMOKE.update(probe_sizes=(4, 6), probe_seeds=(1,), probe_cap_s=2.0)


def _split(rng: random.Random, items: list[str], parts: int) -> list[list[str]]:
    """``items`` cut at random into ``parts`` runs, none empty, in order."""
    cuts = sorted(rng.sample(range(1, len(items)), parts - 1))
    return [items[a:b] for a, b in zip([0, *cuts], [*cuts, len(items)], strict=True)]


def generate_table(size: tuple[int, int, int], seed: int = 821) -> dict[str, Any]:
    """Exactly ``size`` (rules, facts, countries): exclusions, a tree per group of countries, a catch-all."""
    n_rules, n_facts, n_countries = size
    rng = random.Random(seed * 1_000_003 + n_rules)  # noqa: S311 - reproducible, not secret
    countries = [(c.lower().replace(" ", "_"), c) for c in DATA["countries"][:n_countries]]
    countries.append(("other", "Another country"))  # left to the catch-all
    pool = [(f, q, countries if f == "citizenship" else o) for f, q, o in FACT_POOL[:n_facts]]
    exclusions = {"sex": ["female"], "age": ["under_18", "over_65"]}  # early, each its own outcome, as shipped
    rules = [{"when": {fact: options}, "outcome": f"not_affected_{fact}"} for fact, options in exclusions.items()]
    cycle = ["affected", "requirement_met", "not_affected", "affected", "unclear"]
    outcomes = [f"{cycle[i % len(cycle)]}_{i + 1:04d}" for i in range(max(4, n_rules // 4))]

    def tree(when: dict[str, list[str]], facts: list[FactSpec], n: int) -> None:
        """Exactly ``n`` rules in the region ``when``: split on the first fact, its groups on the rest."""
        if n == 1:
            rules.append({"when": when, "outcome": outcomes[len(rules) % len(outcomes)]})  # consecutive ones differ
            return
        room = math.prod(len(options) for _, _, options in facts[1:])  # the most rules each group can hold
        if not facts or n > len(facts[0][2]) * room:
            raise RuntimeError(f"a table of {n_rules} rules needs more facts or countries than {size}")
        fact, order = facts[0][0], [o for o, _ in facts[0][2]]
        parts = rng.randint(max(2, math.ceil(n / room)), min(n, len(order)))
        left_out = parts < len(order) and rng.random() < 0.3  # one option left to the catch-all
        ids = rng.sample(order, len(order) - 1 if left_out else len(order))
        for i, group in enumerate(_split(rng, ids, parts)):
            tree({**when, fact: sorted(group, key=order.index)}, facts[1:], n // parts + (i < n % parts))

    # Per group of countries, a tree over the next three facts in turn (a fact no rule tests is left out).
    later = [f for f in pool if f[0] not in ("sex", "age", "citizenship")]
    budget = n_rules - len(rules) - 1
    treated = [c for c, _ in countries[:-1]]
    groups = _split(rng, rng.sample(treated, len(treated)), max(2, min(len(treated), round(budget / 8))))
    for i, group in enumerate(groups):
        facts = [later[(3 * i + k) % len(later)] for k in range(min(3, len(later)))]
        share = budget // len(groups) + (i < budget % len(groups))
        tree({"citizenship": sorted(group, key=treated.index)}, facts, share)
    rules.append({"when": {}, "outcome": "unclear_other"})
    return table_data(f"synthetic-{n_rules}", [f for f in pool if any(f[0] in r["when"] for r in rules)], rules)


def table_data(name: str, facts: list[FactSpec], rules: list[dict[str, Any]]) -> dict[str, Any]:
    """A whole table around facts and rules (``when``: fact -> option ids; outcome ids start with a verdict)."""
    sources = [f"source_{i}" for i in range(1, 6)]
    url = "https://example.org/"
    facts_data = [{"id": f, "question": q, "options": [{"id": o, "label": t} for o, t in opts]} for f, q, opts in facts]
    outcomes = []
    for i, outcome in enumerate(dict.fromkeys(rule["outcome"] for rule in rules)):
        verdict = outcome.rsplit("_", 1)[0]
        outcomes.append(
            {
                "id": outcome,
                "verdict": verdict,
                "headline": f"{DATA['headlines'][verdict]} (case {i + 1}).",
                "explanation": f"Case {i + 1}: what the sources say about people who answered as you did.",
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


def play(engine: Engine, answers: list[tuple[str, str]]) -> tuple[float, float]:
    """Microseconds of one conversation: the first step, then the answers (each answer() plus the next step())."""
    t0 = time.perf_counter()
    session = engine.new_session()
    step = engine.step(session)
    t1 = time.perf_counter()
    for fact_id, option in answers:
        session = engine.answer(session, fact_id, option)  # raises NotAsked if it is not the question asked
        step = engine.step(session)
    t2 = time.perf_counter()
    assert isinstance(step, Decision)
    return (t1 - t0) * 1e6, (t2 - t1) * 1e6


def measure(path: Path, label: str, s: dict[str, Any]) -> dict[str, Any]:
    """Every figure for one table file."""
    loads, checks = [], []
    for _ in range(s["repeats"]):
        start = time.perf_counter()
        table = load_table(path)
        loaded = time.perf_counter()
        report = check_table(table)
        loads.append(loaded - start)
        checks.append(time.perf_counter() - loaded)
    if not report.ok or report.summary is None or report.engine is None:
        raise RuntimeError(f"{label}: check found problems: " + "; ".join(str(p) for p in report.problems[:5]))
    explorer = report.engine  # the engine the check explored, as at start-up
    every = [list(session.answers.items()) for session, _ in explorer.conversations()]
    sample = random.Random(s["seed"]).sample(every, min(s["cold"], len(every)))  # noqa: S311
    cold = [play(Engine(table), answers) for answers in sample]
    # Warm: the explorer, as in a running bot. Its first pass fills the other caches; the fastest one counts.
    passes = [sum(play(explorer, answers)[1] for answers in every) for _ in range(s["warm_passes"] + 1)][1:]
    return {
        "table": label,
        "rules": report.summary.rules,
        "facts": report.summary.questions,
        "outcomes": report.summary.outcomes,
        "conversations": report.summary.conversations,
        "engine_states_after_exploring": explorer._deciders.cache_info().currsize,
        "load_s": spread(loads, 6),
        "check_s": spread(checks, 6),
        "cold_first_step_us": spread([first for first, _ in cold], 2),
        "cold_per_answer_us": round(sum(rest for _, rest in cold) / sum(map(len, sample)), 2),
        "warm_per_answer_us": round(min(passes) / sum(map(len, every)), 2),
    }


def ratios(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Each size against the one before it, and whether per-answer time grows no worse than linearly."""
    out: dict[str, Any] = {}
    for a, b in itertools.pairwise(results):
        growth = b["rules"] / a["rules"]
        figures: dict[str, Any] = {
            "rules": round(growth, 2),
            "load_s": ratio(b["load_s"]["min"], a["load_s"]["min"], 2),
            "check_s": ratio(b["check_s"]["min"], a["check_s"]["min"], 2),
            "cold_first_step": ratio(b["cold_first_step_us"]["median"], a["cold_first_step_us"]["median"], 2),
            "cold_per_answer": ratio(b["cold_per_answer_us"], a["cold_per_answer_us"], 2),
            "warm_per_answer": ratio(b["warm_per_answer_us"], a["warm_per_answer_us"], 2),
        }
        per_answer = ("warm_per_answer", "cold_per_answer")  # a fresh engine's first step is not per answer
        figures["per_answer_no_worse_than_linear"] = {key: figures[key] <= growth for key in per_answer}
        out[f"{b['rules']}/{a['rules']}"] = figures
    return out


def cross_cutting_table(rules: int, seed: int, facts: int = 20, options: int = 3) -> Table:
    """An unstructured table: each rule tests 1 to 4 facts picked at random, not a tree (nobody should write one)."""
    rng = random.Random(seed)  # noqa: S311
    ids = [f"option_{j}" for j in range(options)]
    outcomes = [f"unclear_{i}" for i in range(max(2, rules // 4))]
    whens = [
        {f"fact_{f}": rng.sample(ids, rng.randint(1, options - 1)) for f in rng.sample(range(facts), rng.randint(1, 4))}
        for _ in range(rules - 1)
    ]
    listed = [{"when": w, "outcome": outcomes[i % len(outcomes)]} for i, w in enumerate(whens)]
    listed.append({"when": {}, "outcome": outcomes[0]})
    pool = [(f"fact_{i}", f"Question {i}?", [(o, o) for o in ids]) for i in range(facts)]
    return parse_table(yaml.safe_dump(table_data("cross-cutting", pool, listed)), "<cross-cutting>")


def explosion_probe(sizes: Sequence[int], seeds: Sequence[int], cap_s: float) -> list[dict[str, Any]]:
    """Explore cross-cutting tables of growing size, each for at most ``cap_s``: finished, capped or refused."""
    found = []
    for rules, seed in itertools.product(sizes, seeds):
        engine = Engine(cross_cutting_table(rules, seed))
        count = 0
        outcome = "finished"
        start = time.perf_counter()
        try:
            for _ in engine.conversations():  # EXPLORATION_BUDGET bounds the time until the next one
                count += 1
                if time.perf_counter() - start > cap_s:
                    outcome = "capped"
                    break
        except TooEntangled:
            outcome = "refused: too entangled"
        found.append(
            {"rules": rules, "seed": seed, "outcome": outcome, "seconds": round(time.perf_counter() - start, 3)}
        )
        found[-1].update(conversations=count, decider_states=engine._deciders.cache_info().misses)
        print(f"cross-cutting table of {rules} rules, seed {seed}: {found[-1]}", flush=True)
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The shipped table and each generated size, then the probe; growth ratios and the target."""
    s = args.sizes
    reference = measure(ROOT / "rules" / "decree-821.yaml", "rules/decree-821.yaml (shipped)", s)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
        for size in s["tables"]:
            path = Path(tmp) / f"synthetic-{size[0]}.yaml"
            write_table(generate_table(size, s["seed"]), path)
            results.append(measure(path, f"synthetic, {size[0]} rules", s))
            print(results[-1], flush=True)
    growth = ratios(results)
    return {
        "setup": "cold: a random sample of conversations, each on a fresh Engine, its first step (which explores "
        "the table) apart; warm: every conversation on the Engine that explored it, the fastest pass",
        "reference": reference,
        "sizes": results,
        "ratios": growth,
        "cross_cutting_probe": {
            "what": "Engine.conversations() (what check_table runs) over tables of 20 facts of 3 options, rules of 1-4 "
            f"random conditions (not nested): capped after {s['probe_cap_s']} s, or refused by EXPLORATION_BUDGET",
            "runs": explosion_probe(s["probe_sizes"], s["probe_seeds"], s["probe_cap_s"]),
        },
        "target": "per-answer engine time, warm and cold, grows no worse than linearly in the number of rules",
        "target_met": all(all(f["per_answer_no_worse_than_linear"].values()) for f in growth.values()),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    return run_benchmark("rules", TITLE, parse("rules", __doc__ or "", FULL, SMOKE, argv), run)


if __name__ == "__main__":
    main()
