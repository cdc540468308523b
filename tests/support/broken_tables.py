"""What the loader must report for each deliberately broken rule table in tests/fixtures/broken/.

Shared by the loader's tests and the checker's, which must report the same problems.
"""

from __future__ import annotations

__all__ = ["LOADS", "PROBLEMS"]

PROBLEMS: dict[str, list[tuple[int, str, str]]] = {
    "yaml_syntax.yaml": [(31, "", "YAML syntax error: a key is indented differently from the keys above it")],
    "tab_indent.yaml": [(40, "", "found character '\\t' that cannot start any token")],
    "control_char.yaml": [(17, "", "unacceptable character #x0007")],
    "bad_date.yaml": [(6, "", "2026-13-45")],
    "list.yaml": [(1, "", "the file must be a mapping with meta, sources, facts, outcomes and rules")],
    "unknown_key.yaml": [(67, "outcome 'requirement_met'", "unknown key 'satisfy' (did you mean 'satisfies'?)")],
    "missing_key.yaml": [(69, "outcome 'affected'", "missing key 'explanation'")],
    "duplicate_id.yaml": [(89, "rule 'too_young'", "duplicate id (first at line 83)")],
    "duplicate_key.yaml": [(81, "", "key 'outcome' appears twice in one block (first at line 80)")],
    "unknown_fact.yaml": [(85, "rule 'too_young'", "unknown fact 'ages' (did you mean 'age'?)")],
    "unknown_option.yaml": [
        (98, "rule 'with_contract'", "unknown option 'contracts' for fact 'service' (did you mean 'contract'?)")
    ],
    "unknown_outcome.yaml": [
        (80, "rule 'women'", "unknown outcome 'not_affected_women' (did you mean 'not_affected_woman'?)")
    ],
    "unknown_source.yaml": [(93, "rule 'too_old'", "unknown source 'offical' (did you mean 'official'?)")],
    "unknown_document.yaml": [
        (73, "outcome 'affected'", "unknown document 'army_contracts' (did you mean 'army_contract'?)")
    ],
    "outcome_no_text.yaml": [(60, "outcome 'not_affected_age'", "headline must be a non-empty text")],
    "no_catch_all.yaml": [(102, "rule 'covered'", "the last rule must be a catch-all with `when: {}`")],
    "bad_verdict.yaml": [
        (70, "outcome 'affected'", "unknown verdict 'affect'; use one of not_affected, affected, requirement_met")
    ],
    "bad_confidence.yaml": [(94, "rule 'too_old'", "confidence must be one of high, medium, low, not 'certain'")],
    "unquoted_id.yaml": [
        (35, "fact 'age' option #2", 'id 18_65 is read by YAML as int 1865, not a string; write it in quotes: "18_65"')
    ],
    "boolean_id.yaml": [
        (44, "fact 'service' option #2", 'id no is read by YAML as bool False, not a string; write it in quotes: "no"')
    ],
    "unquoted_option.yaml": [(91, "rule 'too_old'", "age: 18_65 is read by YAML as int 1865; write it in quotes")],
    "unquoted_version.yaml": [(5, "meta", "version must be a quoted string, not 1.0")],
    "not_utf8.yaml": [(15, "", "the file is not UTF-8 text")],
    "several_problems.yaml": [
        (12, "meta", "unknown key 'author'"),
        (25, "source 'news'", "duplicate id (first at line 20)"),
        (44, "fact 'age' option #2", 'id 18_65 is read by YAML as int 1865, not a string; write it in quotes: "18_65"'),
        (79, "outcome 'affected'", "unknown verdict 'affect'"),
        (83, "outcome 'affected'", "unknown action 'sign_contract'"),
        (84, "outcome 'affected'", "unknown unknown 'end_date'"),
        (85, "outcome 'affected'", "unknown help 'lawyer'"),
        (97, "rule 'too_young'", "unknown fact 'ages' (did you mean 'age'?)"),
        (114, "rule 'covered'", "the last rule must be a catch-all"),
    ],
}

# Fixtures that load: only exploring the conversations finds their defects (see test_check.py).
LOADS = {
    "never_asked.yaml",
    "unreachable_outcome.yaml",
    "shadowed_rule.yaml",
    "shadowed_jointly.yaml",
    "check_problems.yaml",
}
