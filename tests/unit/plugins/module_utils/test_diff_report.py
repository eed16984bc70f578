# -*- coding: utf-8 -*-
"""Unit tests: secret redaction in diffs, and the summary table."""

from __future__ import annotations

import json

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils._diff import diff_payload
from ansible_collections.sutazai.consolidation.plugins.module_utils._redaction import fingerprint, redact_text
from ansible_collections.sutazai.consolidation.plugins.module_utils._report import (
    render_json,
    render_markdown,
    render_table,
    one_line,
    with_variables,
)


def test_redacts_env_yaml_json_values():
    text = "\n".join([
        "POSTGRES_PASSWORD=s3cr3t-value",
        "export API_KEY='abc123'",
        "OLLAMA_URL=http://ollama:11434",
        "  jwt_secret: hunter2",
        '  {"db_password": "pw-9", "user": "sutazai"}',
        "REDIS_PASSWORD=${REDIS_PASSWORD}",
        "# PASSWORD=commented",
    ])
    out = redact_text(text)
    for secret in ("s3cr3t-value", "abc123", "hunter2", "pw-9"):
        assert secret not in out
    assert "POSTGRES_PASSWORD=<redacted %s>" % fingerprint("s3cr3t-value") in out
    assert "OLLAMA_URL=http://ollama:11434" in out
    assert '"user": "sutazai"' in out
    assert "REDIS_PASSWORD=${REDIS_PASSWORD}" in out


def test_diff_payload_headers_and_absent():
    d = diff_payload("a/b.json", None, "TOKEN=x\n")
    assert d["before_header"] == "a/b.json (absent)" and d["before"] == ""
    assert d["after_header"] == "a/b.json (after)" and "x\n" not in d["after"]


def test_summary_table_and_reports():
    summaries = [{"phase": "agents", "status": "changed",
                  "rows": [{"item": "Agent registry files (JSON)", "before": 4, "after": 1}]},
                 {"phase": "env", "status": "blocked", "reason": "bad file", "rows": []}]
    lines = render_table(summaries, title="T")
    assert lines[0] == "T"
    assert lines[3].split("|")[2].strip() == "Agent registry files (JSON)"
    assert lines[3].split("|")[3].strip() == "4" and lines[3].split("|")[4].strip() == "1"
    assert "bad file" in lines[4]
    ran = [p for p in json.loads(render_json(summaries, "r1", "/opt"))["phases"] if p["ran"]]
    assert ran[0]["phase"] == "agents"
    assert "| agents | changed | Agent registry files (JSON) | 4 | 1 |" in render_markdown(summaries, "r1", "/opt")


def test_detail_sections_go_to_markdown_and_json_not_console():
    summaries = [{"phase": "scripts", "status": "unchanged", "rows": [{"item": "scripts", "before": 2, "after": 2}],
                  "details": [{"title": "inventory", "columns": ["path", "purpose", "size"],
                               "rows": [["scripts/a.sh", "Deploy | all\nservices", 120], ["scripts/b.py", None]],
                               "note": "Two scripts."},
                              {"title": "near duplicates", "columns": ["a", "b"], "rows": []}]}]
    md = render_markdown(summaries, "r1", "/srv")
    assert "## scripts: inventory" in md and "Two scripts." in md
    assert "| path | purpose | size |" in md
    # pipes are escaped, new lines folded, missing cells shown as "-"
    assert "| scripts/a.sh | Deploy \\| all services | 120 |" in md
    assert "| scripts/b.py | - | - |" in md
    assert "## scripts: near duplicates\n\n(none)" in md
    assert "inventory" not in "\n".join(render_table(summaries))
    phases = {p["phase"]: p for p in json.loads(render_json(summaries, "r1", "/srv"))["phases"]}
    assert phases["scripts"]["details"][0]["rows"][0][2] == 120


def test_table_lines_fit_and_long_items_wrap_at_words_without_losing_text():
    reason = ("services phase changed nothing: 3 service source file(s) could not be read or parsed "
              "(on_invalid=fail) -- a.yml:3: bad; b.yml:9: worse")
    summaries = [{"phase": "services", "status": "blocked", "reason": reason, "rows": [{"item": "Services", "before": 1, "after": 1}]},
                 {"phase": "scripts", "status": "would change", "rows": [
                     {"item": "the canonical lacks: AgentRegistry (force the phase with base_agent_force=true) " * 2,
                      "before": 3, "after": 1}]}]
    lines = render_table(summaries, title="T")
    assert max(len(line) for line in lines) <= 100
    items = " ".join(line.split(" | ")[2].strip() for line in lines[3:])
    assert " ".join(("the canonical lacks: AgentRegistry (force the phase with base_agent_force=true) " * 2).split()) in items
    # The console names the variable a user sets and points to the report for the error list.
    assert "(services_on_invalid=fail)" in items and "a.yml:3" not in items and "run report" in items
    assert "a.yml:3: bad" in render_markdown(summaries, "r1", "/srv")


def test_with_variables_and_one_line():
    assert with_variables("secrets", "x (on_invalid=fail) requirements_resolve=newest") == \
        "x (env_on_invalid=fail) requirements_resolve=newest"
    assert with_variables("nope", "on_invalid=fail") == "on_invalid=fail"
    assert one_line("a\nb  c") == "a b c"
    long = one_line("word " * 100, 200)
    assert len(long) <= 200 and long.endswith("(the whole text is in the run report)") and "wor " not in long


def _schema():
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "..", "..", "schemas", "run_report.schema.json")) as f:
        return json.load(f)


def test_report_document_has_every_phase_decisions_files_and_validates():
    import jsonschema

    from ansible_collections.sutazai.consolidation.plugins.module_utils._report import PHASES, report_document

    summaries = [
        {"phase": "services", "status": "blocked", "rows": [],
         "reason": "services phase changed nothing: 1 file(s) could not be parsed (on_invalid=fail) -- a.yml:3:1: bad"},
        {"phase": "dockerfiles", "status": "unchanged", "rows": [{"item": "Dockerfiles", "before": 3, "after": 3}],
         "details": [{"title": "Families needing a person's decision", "columns": ["family"], "rows": [["x"], ["y"]]},
                     {"title": "Base images", "columns": ["image"], "rows": [["debian"]]}]},
        {"phase": "agents", "status": "changed", "rows": [], "decisions": ["3 field(s) differ"],
         "files": [{"path": "config/agents/master_registry.json", "action": "create"}], "warnings": ["w1"]},
        {"phase": "config (connections)", "status": "unchanged", "rows": []},
    ]
    doc = report_document(summaries, "20261207T000000Z-abcdef", "/srv/app", rollback_command="ansible-playbook x")
    jsonschema.validate(doc, _schema(), cls=jsonschema.Draft202012Validator)
    assert [p["phase"] for p in doc["phases"]] == list(PHASES) + ["config (connections)"]
    assert [p["phase"] for p in doc["phases"] if not p["ran"]] == [
        "backup", "env", "secrets", "config", "requirements", "scripts", "terms", "base_agent"]
    assert doc["changed_files"] == [{"path": "config/agents/master_registry.json", "action": "create", "phase": "agents"}]
    assert doc["needs_decision"] == [
        {"phase": "services", "kind": "blocked", "text": "services phase changed nothing: 1 file(s) could not be parsed "
         "(services_on_invalid=fail) (the errors are listed in the phase's section)"},
        {"phase": "dockerfiles", "kind": "section",
         "text": "Families needing a person's decision: 2 (see the dockerfiles section)"},
        {"phase": "agents", "kind": "note", "text": "3 field(s) differ"}]
    # The schema rejects what the report never holds.
    bad = dict(doc, phases=doc["phases"][:3])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, _schema(), cls=jsonschema.Draft202012Validator)
    md = render_markdown(summaries, "r1", "/srv/app", rollback_command="ansible-playbook x")
    assert md.index("## Needs your decision") < md.index("## Summary") < md.index("## Changed files") < md.index("## Roll back")
    assert "```\nansible-playbook x\n```" in md
    assert "## Phase env: not run\n\nNot run in this play" in md
    assert "| config/agents/master_registry.json | create | agents |" in md


def test_result_sections_tabulate_result_keys():
    from ansible_collections.sutazai.consolidation.plugins.module_utils._report import result_sections

    result = {"conflicts": [{"service": "a", "field": "port", "compose": [1, 2]}, {"service": "b", "extra": "x" * 400}],
              "unregistered": ["blue", "green"], "phantoms": {"p1": {"ports": [1]}}, "unresolved_ports": []}
    sections = {s["title"]: s for s in result_sections("services", result)}
    assert sections["Registry conflicts with compose"]["columns"] == ["service", "field", "compose", "extra"]
    assert sections["Registry conflicts with compose"]["rows"][0] == ["a", "port", "[1, 2]", "-"]
    assert sections["Registry conflicts with compose"]["rows"][1][3].endswith("...")
    assert len(sections["Registry conflicts with compose"]["rows"][1][3]) == 300
    assert sections["Services in compose that no registry lists"]["rows"] == [["blue"], ["green"]]
    assert sections["Registry entries without a compose service"]["rows"] == [["p1", "[1]"]]
    assert "Ports not resolved" not in sections
    assert result_sections("terms", result) == []
