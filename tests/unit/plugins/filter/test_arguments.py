# -*- coding: utf-8 -*-
"""Unit tests: the filters the preflight role checks the phase arguments with."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.sutazai.consolidation.plugins.filter.arguments import (
    argument_check_errors,
    checked_phases,
    parse_value,
    phase_argument_specs,
    phase_arguments,
)

PHASES = [{"role": r, "tags": [r]} for r in ("agents", "env", "scripts", "terms")] + [{"role": "report", "tags": ["always"]}]
SPECS = {
    "terms": {"terms_map": {"type": "dict"}, "terms_exclude": {"type": "list", "elements": "str"},
              "terms_scope": {"type": "str", "choices": ["docs", "all"]}},
    "services": {"services_group_rules": {"type": "list", "elements": "dict"}, "services_aliases": {"type": "dict"}},
}


@pytest.mark.parametrize("skip,expected", [
    ([], ["agents", "env", "scripts", "terms", "report"]),
    (["scripts"], ["agents", "env", "terms", "report"]),
    (["secrets"], ["agents", "env", "scripts", "terms", "report"]),
    (["always"], []),
    (["all"], ["agents", "env", "scripts", "terms", "report"]),
    (["all", "always"], []),
    (["tagged"], []),
])
def test_checked_phases_follow_ansible_tag_rules_for_always_tagged_checks(skip, expected):
    # --tags does not matter: Ansible's own argument check of a role is tagged always.
    assert checked_phases(PHASES, ["terms"], skip) == expected
    assert checked_phases(PHASES, None, skip) == expected


def test_phase_argument_specs_drop_the_play_set_variables():
    text = """argument_specs:
  main:
    options:
      sutazai_run_id: {type: str, required: true}
      sutazai_root: {type: path, required: true}
      terms_map: {type: dict}
"""
    assert phase_argument_specs([text], ["terms"]) == {"terms": {"sutazai_root": {"type": "path", "required": True},
                                                                 "terms_map": {"type": "dict"}}}
    with pytest.raises(AnsibleFilterError):
        phase_argument_specs(["just text"], ["terms"])


def test_json_strings_are_read_for_lists_and_dicts():
    out = phase_arguments(SPECS, {"terms_map": '{"quantum": "theoretical", "magic": null}',
                                  "terms_exclude": '["tests", "docs/old"]', "terms_scope": "docs",
                                  "services_aliases": {"a": "b"}})
    assert out["errors"] == [] and out["warnings"] == []
    assert out["parsed"] == {"terms_map": {"quantum": "theoretical", "magic": None},
                             "terms_exclude": ["tests", "docs/old"]}
    assert out["provided"] == {"terms": out["parsed"], "services": {}}


def test_strings_are_otherwise_read_as_module_options_are():
    assert parse_value("x", "a,b", "list") == ["a", "b"]
    assert parse_value("x", "a=1 b=2", "dict") == {"a": "1", "b": "2"}
    assert parse_value("x", "[a, b]", "list") == ["a", "b"]  # YAML flow
    with pytest.raises(ValueError, match="x must be an object; the JSON value is a list"):
        parse_value("x", '["a"]', "dict")
    with pytest.raises(ValueError, match="x is not valid JSON"):
        parse_value("x", '{"a":', "dict")


def test_a_value_cut_at_a_space_by_ansible_is_explained():
    out = phase_arguments(SPECS, {"terms_map": '{"quantum":'}, raw_params='"theoretical"}')
    assert len(out["errors"]) == 1
    msg = out["errors"][0]
    assert msg.startswith("terms_map is not valid JSON: '{\"quantum\":' (role terms)")
    assert "cut the value at a space" in msg
    assert """-e 'terms_map={"quantum":"theoretical"}'""" in msg
    assert """-e '{"terms_map": {"quantum": "theoretical"}}'""" in msg


def test_words_without_a_variable_are_a_warning():
    out = phase_arguments(SPECS, {"terms_scope": "all"}, raw_params="docs")
    assert out["errors"] == [] and "assigned to no variable" in out["warnings"][0]


def test_a_list_of_dicts_as_a_string_is_refused_with_the_way_to_pass_it():
    # Ansible's own check at the role's start splits the string at commas: refused up front.
    out = phase_arguments(SPECS, {"services_group_rules": '[{"group": "db", "pattern": "pg"}]'})
    assert len(out["errors"]) == 1 and "services_group_rules given as a string is refused" in out["errors"][0]
    assert """-e '{"services_group_rules": [{"group": "db", "pattern": "pg"}]}'""" in out["errors"][0]


def test_a_deep_json_argument_is_an_error_not_a_crash():
    out = phase_arguments(SPECS, {"terms_map": "{" + '"a":[' * 100000})
    assert out["errors"] and out["errors"][0].startswith("terms_map is not valid JSON")


def test_argument_check_errors_group_roles():
    results = [{"item": "agents", "argument_errors": ["missing required arguments: sutazai_root"]},
               {"item": "terms", "argument_errors": ["missing required arguments: sutazai_root",
                                                     "value of terms_scope must be one of: docs, all, got: x"]},
               {"item": "env"}]
    assert argument_check_errors(results) == [
        "missing required arguments: sutazai_root (roles agents, terms)",
        "value of terms_scope must be one of: docs, all, got: x (role terms)"]
