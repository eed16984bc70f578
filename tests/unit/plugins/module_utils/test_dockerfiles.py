# -*- coding: utf-8 -*-
"""Dockerfile phase: normal form, exact groups, token alignment, Docker's substitution rules,
render/proof (positive and negative cases), naming, references from other files, and the
Splicer additions used for Compose ``build:`` edits."""

from __future__ import annotations

import os
import random

import pytest
from ruamel.yaml import YAML

from ansible_collections.sutazai.consolidation.plugins.module_utils import _compose, _dockerfiles as D
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import TreeFile


def nf(text):
    d, ins = D.parse_dockerfile(text, "Dockerfile")
    return D.normal_text(d, ins)


def units_of(*texts):
    out = []
    for n, text in enumerate(texts):
        e = D.DockerfileEntry("f%d/Dockerfile" % n)
        e.directives, e.instructions = D.parse_dockerfile(text, e.rel)
        e.digest = D.digest(e.directives, e.instructions)
        ref = D.BuildRef.__new__(D.BuildRef)
        ref.args = set()
        e.refs = [ref]
        out.append(D.Unit([e]))
    return out


def template_for(*texts, runtime_values="keep"):
    """(positions, template record or None) for one family of texts."""
    units = units_of(*texts)
    positions, structural = D.align(units, runtime_values)
    return positions, structural, D._build_template(units, runtime_values)


def write(root, files):
    for rel, text in files.items():
        p = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


# -- normal form ---------------------------------------------------------------------------------

def test_normal_form_case_continuations_comments_whitespace():
    a = "from python:3.11-slim\n# comment\nrun apt-get update \\\n    # inner comment\n    &&  apt-get install -y curl\nCOPY   a.txt   /app/\n"
    b = "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl\n\n\nCOPY a.txt /app/\n"
    assert nf(a) == nf(b) == "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl\nCOPY a.txt /app/\n"


def test_whitespace_inside_quotes_and_in_image_config_is_kept():
    assert nf("FROM a\nRUN echo 'a   b'\n") != nf("FROM a\nRUN echo 'a b'\n")
    assert nf('FROM a\nENV X="a  b"\n') != nf('FROM a\nENV X="a b"\n')
    # Shell-form CMD is stored in the image as written.
    assert nf("FROM a\nCMD python  app.py\n") != nf("FROM a\nCMD python app.py\n")
    assert nf("FROM a\nWORKDIR /my  dir\n") != nf("FROM a\nWORKDIR /my dir\n")
    # An escaped blank is part of a word, not a separator.
    assert nf("FROM a\nRUN touch a\\  b\n") != nf("FROM a\nRUN touch a\\ b\n")


def test_exec_form_is_reencoded_and_directives_are_kept():
    assert nf('FROM a\nCMD [ "python","app.py" ]\n') == nf('FROM a\nCMD ["python", "app.py"]\n')
    assert nf('FROM a\nCMD ["python", "app.py"]\n') != nf("FROM a\nCMD python app.py\n")
    assert nf("# syntax=docker/dockerfile:1\nFROM a\n") == "# syntax=docker/dockerfile:1\nFROM a\n"
    assert nf("# syntax=docker/dockerfile:1\nFROM a\n") != nf("FROM a\n")


@pytest.mark.parametrize("text, kind, line", [
    ("FROM a\nRUN <<EOF\necho hi\nEOF\n", "heredoc", 2),
    ("FROM a\nCOPY <<-'EOT' /x\nhi\nEOT\n", "heredoc", 2),
    ("FORM a\n", "unparseable", 1),
    ("FROM a\nRUN echo \\\n\n  && foo\n", "unparseable", 4),
    ("# escape=`\nFROM a\n", "unparseable", 1),
    ("# only a comment\n", "unparseable", None),
    ("FROM a\nRUN\n", "unparseable", 2),
    ("RUN echo\nFROM a\n", "unparseable", 1),
])
def test_left_alone_kinds_with_line(text, kind, line):
    with pytest.raises(ConsolidationError) as exc:
        D.parse_dockerfile(text, "x/Dockerfile")
    assert exc.value.kind == kind and exc.value.line == line and exc.value.path == "x/Dockerfile"


def test_arithmetic_shift_is_not_a_heredoc():
    assert nf("FROM a\nRUN echo $((1 << 2))\n") == "FROM a\nRUN echo $((1 << 2))\n"


def test_split_words_quotes_and_escapes():
    assert D.split_words("a  'b  c'   \"d e\"  f\\ g") == ["a", " ", "'b  c'", " ", '"d e"', " ", "f\\ g"]
    assert D.split_words("a  b", exact=True) == ["a", "  ", "b"]


def test_dockerfile_names():
    assert D.is_dockerfile_name("x/Dockerfile") and D.is_dockerfile_name("Dockerfile.agent")
    assert D.is_dockerfile_name("docker/web.Dockerfile")
    assert not D.is_dockerfile_name("Dockerfile.") and not D.is_dockerfile_name("dockerfile")
    assert not D.is_dockerfile_name("Dockerfile-old") and not D.is_dockerfile_name("x/.dockerignore")


# -- alignment, Docker's rules, render and proof --------------------------------------------

AGENT = """FROM python:{tag}
WORKDIR /app
COPY {req} .
RUN pip install --no-cache-dir -r {req}
ENV AGENT_NAME={name} PYTHONUNBUFFERED=1
EXPOSE {port}
HEALTHCHECK CMD curl -f http://localhost:${{AGENT_PORT}}/health || exit 1
CMD ["python", "app.py"]
"""


def test_build_time_values_become_args_and_every_member_is_proven():
    texts = [AGENT.format(tag="3.11-slim", req="requirements.txt", name="a", port=8001),
             AGENT.format(tag="3.12-slim", req="requirements-b.txt", name="b", port=8002),
             AGENT.format(tag="3.11-slim", req="requirements.txt", name="c", port=8003)]
    positions, structural, rec = template_for(*texts)
    assert not structural and all(p.ok for p in positions)
    assert rec is not None and len(rec["proven"]) == 3
    kinds = dict((p.name, p.kind) for p in rec["params"])
    assert kinds == {"BASE_TAG": "from", "TPL_COPY_PATH": "build", "AGENT_NAME": "env:AGENT_NAME", "TPL_PORT": "build"}
    text = rec["text"]
    # FROM's arg before FROM; the others right before their first use in the stage.
    assert text.index("ARG BASE_TAG\nFROM python:${BASE_TAG}\n") >= 0
    assert "ARG TPL_COPY_PATH\nCOPY ${TPL_COPY_PATH} .\nRUN pip install --no-cache-dir -r ${TPL_COPY_PATH}\n" in text
    assert "ARG AGENT_NAME\nENV AGENT_NAME=${AGENT_NAME} PYTHONUNBUFFERED=1\n" in text
    for n, u in enumerate(rec["units"]):
        values = dict((p.name, p.values[n]) for p in rec["params"])
        assert D.render(text, rec["params"], values) == D.normal_text(u.rep.directives, u.instructions)
    # A wrong value does not render the member.
    values = dict((p.name, p.values[0]) for p in rec["params"])
    values["TPL_PORT"] = "9999"
    assert D.render(text, rec["params"], values) != D.normal_text(rec["units"][0].rep.directives, rec["units"][0].instructions)


@pytest.mark.parametrize("a, b, reason", [
    ("FROM a\nRUN echo 'role a' > /r\n", "FROM a\nRUN echo 'role b' > /r\n", "RUN (inside single quotes)"),
    ("FROM a\nHEALTHCHECK CMD curl -f http://x:8080/ || exit 1\n",
     "FROM a\nHEALTHCHECK CMD curl -f http://x:9090/ || exit 1\n", "HEALTHCHECK (run-time)"),
    ("FROM a\nCMD python a.py\n", "FROM a\nCMD python b.py\n", "CMD (run-time)"),
    ('FROM a\nCMD ["python", "a.py"]\n', 'FROM a\nCMD ["python", "b.py"]\n', "CMD (exec form)"),
    ("FROM a\nARG V=1\n", "FROM a\nARG V=2\n", "ARG (not substituted by Docker)"),
    ("FROM a\nCOPY --chown=a:a x /x\n", "FROM a\nCOPY --chown=b:b x /x\n", "COPY flag"),
    ("FROM a\nENV API_TOKEN=tok-1\n", "FROM a\nENV API_TOKEN=tok-2\n", "ENV (secret-looking value)"),
    ('FROM a\nENV GREETING="hi there"\n', 'FROM a\nENV GREETING="hello there"\n', None),
    ("FROM a\nRUN pip install fastapi==0.115.6\n", "FROM a\nRUN pip install fastapi==0.104.1\n", None),
    ('FROM a\nLABEL d="a b"\n', 'FROM a\nLABEL d="c d"\n', "LABEL (value is not a plain token)"),
    ("FROM a\nRUN echo ${X:-a}\n", "FROM a\nRUN echo ${X:-b}\n", "RUN (inside an expansion or escaped)"),
    ("FROM a\nRUN echo $(cat a)\n", "FROM a\nRUN echo $(cat b)\n", "RUN (inside an expansion or escaped)"),
    ("FROM a\nRUN if true; then echo; fi\n", "FROM a\nRUN while true; then echo; fi\n", "RUN (shell reserved word)"),
    ("FROM a\nRUN A=1 make\n", "FROM a\nRUN B=1 make\n", "RUN (assignment name)"),
    # the shell tokenizer sees the command that starts after ";" inside one blank-separated word
    ("FROM a\nRUN cd /src;A_X=1 make\n", "FROM a\nRUN cd /src;A_Y=1 make\n", "RUN (assignment name)"),
    ("FROM a\nRUN sleep $((a+1))\n", "FROM a\nRUN sleep $((a+2))\n", "RUN (inside an expansion or escaped)"),
    ("FROM a\nRUN echo 'v1\n", "FROM a\nRUN echo 'v2\n", "RUN (quote ' opened here is never closed)"),
    ("FROM a\nRUN echo x 1>/dev/null\n", "FROM a\nRUN echo x 2>/dev/null\n", "RUN (tilde, redirection or brace expansion)"),
    ("FROM a\nRUN IFS=: echo a\n", "FROM a\nRUN IFS=: echo b\n", "RUN (sets IFS)"),
    ('FROM a\nSHELL ["pwsh", "-c"]\nRUN echo a\n', 'FROM a\nSHELL ["pwsh", "-c"]\nRUN echo b\n',
     "RUN (SHELL is not a POSIX shell)"),
    ("FROM a AS one\n", "FROM a AS two\n", "FROM (stage name)"),
    ("FROM a AS b1\nFROM b1\n", "FROM a AS b1\nFROM c\n", "FROM (refers to a build stage)"),
    ("FROM a\nRUN echo $HOME_A\n", "FROM a\nRUN echo $HOME_B\n", "RUN (part of a variable name)"),
    ("FROM a\nONBUILD COPY a /a\n", "FROM a\nONBUILD COPY b /b\n", "ONBUILD (not substituted)"),
])
def test_positions_docker_does_not_substitute_are_not_args(a, b, reason):
    positions, structural, rec = template_for(a, b)
    if reason is None:
        # A plain word inside double quotes; a pin that only looks like an assignment (an argument).
        assert rec is not None and [p.ok for p in positions] == [True]
        return
    assert rec is None
    assert reason in set(p.reason for p in positions if not p.ok)


def test_runtime_values_env_is_opt_in_and_goes_through_env():
    a = "FROM a\nHEALTHCHECK CMD curl -f http://localhost:8080/health || exit 1\n"
    b = "FROM a\nHEALTHCHECK CMD curl -f http://localhost:9090/health || exit 1\n"
    assert template_for(a, b)[2] is None
    positions, structural, rec = template_for(a, b, runtime_values="env")
    assert rec is not None and [p.kind for p in rec["params"]] == ["runtime"]
    assert ("ARG TPL_HEALTHCHECK\nENV TPL_HEALTHCHECK=${TPL_HEALTHCHECK}\n"
            "HEALTHCHECK CMD curl -f http://localhost:${TPL_HEALTHCHECK}/health || exit 1\n") in rec["text"]
    # Exec form stays out even with env.
    assert template_for('FROM a\nCMD ["x", "1"]\n', 'FROM a\nCMD ["x", "2"]\n', runtime_values="env")[2] is None


def test_different_instruction_sequences_are_different_families(tmp_path):
    write(tmp_path, {
        "a/Dockerfile": "FROM python:3.11-slim\nENV NAME=a\nEXPOSE 1\n",
        "b/Dockerfile": "FROM python:3.11-slim\nEXPOSE 2\nENV NAME=b\n",
        "docker-compose.yml": "services:\n  a:\n    build: ./a\n  b:\n    build: ./b\n"})
    plan = D.plan_dockerfiles(str(tmp_path))
    assert plan.stats["sequences"] == 2 and not plan.templates and not plan.writes and not plan.compose_edits


def test_structure_difference_splits_and_subgroups_are_templated():
    texts = ["FROM a\nENV N=%s\nHEALTHCHECK CMD check %s\n" % (n, hc) for n, hc in
             (("x", "p1"), ("y", "p1"), ("z", "p2"), ("w", "p2"), ("v", "p3"))]
    units = units_of(*texts)
    groups, reasons = D.split_family(units, "keep")
    assert reasons == {"HEALTHCHECK (run-time)"}
    assert [[u.rel for u in g] for g, dummy in groups] == [
        ["f0/Dockerfile", "f1/Dockerfile"], ["f2/Dockerfile", "f3/Dockerfile"]]


def test_env_key_name_falls_back_when_the_key_is_read_at_build_time():
    a = "FROM a\nENV PORT=1\nRUN echo ${PORT}\n"
    b = "FROM a\nENV PORT=2\nRUN echo ${PORT}\n"
    positions, structural, rec = template_for(a, b)
    assert [p.name for p in rec["params"]] == ["TPL_PORT"]
    # The RUN still reads the ENV (Docker's rule): the proof renders it unchanged.
    assert "ENV PORT=${TPL_PORT}\nRUN echo ${PORT}\n" in rec["text"]


def test_build_arg_reuses_env_key_after_the_env():
    a = "FROM a\nENV PORT=8001\nEXPOSE 8001\n"
    b = "FROM a\nENV PORT=8002\nEXPOSE 8002\n"
    rec = template_for(a, b)[2]
    assert [p.name for p in rec["params"]] == ["PORT"]
    assert rec["text"].endswith("ARG PORT\nENV PORT=${PORT}\nEXPOSE ${PORT}\n")
    # Before the ENV it cannot (the ARG would be visible to the RUN in between).
    rec = template_for("FROM a\nEXPOSE 8001\nRUN x\nENV PORT=8001\n", "FROM a\nEXPOSE 8002\nRUN x\nENV PORT=8002\n")[2]
    assert sorted(p.name for p in rec["params"]) == ["PORT", "TPL_PORT"]


def test_names_avoid_names_in_use():
    a = "FROM a\nARG TPL_PORT=1\nEXPOSE 1\n"
    b = "FROM a\nARG TPL_PORT=1\nEXPOSE 2\n"
    rec = template_for(a, b)[2]
    assert [p.name for p in rec["params"]] == ["TPL_PORT_2"]


def test_multi_stage_from_args_are_global_and_redeclared_per_stage():
    a = "FROM golang:1.21 AS build\nRUN go build -o /out/app-a .\nFROM alpine:3.19\nCOPY --from=build /out/app-a /app\n"
    b = "FROM golang:1.22 AS build\nRUN go build -o /out/app-b .\nFROM alpine:3.19\nCOPY --from=build /out/app-b /app\n"
    rec = template_for(a, b)[2]
    text = rec["text"]
    assert text.startswith("# Template made by")
    # FROM's arg before the first FROM; one arg for the same values in RUN and COPY, declared in
    # each stage that uses it (an ARG does not cross stages).
    assert text.split("\n", 2)[2] == ("ARG BASE_TAG\nFROM golang:${BASE_TAG} AS build\nARG TPL_RUN\n"
                                      "RUN go build -o /out/${TPL_RUN} .\nFROM alpine:3.19\nARG TPL_RUN\n"
                                      "COPY --from=build /out/${TPL_RUN} /app\n")
    for n, u in enumerate(rec["units"]):
        values = dict((p.name, p.values[n]) for p in rec["params"])
        assert D.render(text, rec["params"], values) == D.normal_text(u.rep.directives, u.instructions)


def test_render_refuses_an_arg_out_of_scope():
    p = D.Param("build", ["x"], "COPY")
    p.name = "TPL_X"
    with pytest.raises(ConsolidationError) as exc:
        D.render("FROM a\nCOPY ${TPL_X} /x\nARG TPL_X\n", [p], {"TPL_X": "x"})
    assert exc.value.kind == "proof"
    # In a later stage the ARG of the first stage is not in scope.
    with pytest.raises(ConsolidationError):
        D.render("FROM a\nARG TPL_X\nFROM b\nCOPY ${TPL_X} /x\n", [p], {"TPL_X": "x"})
    # Where Docker does not substitute, ${NAME} stays as written.
    assert D.render("FROM a\nARG TPL_X\nCMD echo ${TPL_X}\n", [p], {"TPL_X": "x"}) == "FROM a\nCMD echo ${TPL_X}\n"


@pytest.mark.parametrize("seed", range(20))
def test_proof_holds_for_generated_families(seed):
    """Families whose members vary at random build-time places: every group found is proven
    and renders each member exactly."""
    rnd = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789._-"

    def word():
        return rnd.choice("abcxyz") + "".join(rnd.choice(alphabet) for dummy in range(rnd.randint(0, 7)))
    shapes = ["FROM python:{}", "WORKDIR /srv/{}", "COPY {} /srv/", "ENV KEY_A={} OTHER=x", 'LABEL title="{}"',
              "RUN echo {} > /tmp/o", "EXPOSE {}", "USER {}", "RUN pip install {}==1.0"]
    varying = [rnd.random() < 0.5 for dummy in shapes]
    constant = [word() for dummy in shapes]
    family = []
    for dummy in range(rnd.randint(2, 6)):
        family.append("\n".join(shape.format(word() if varying[i] else constant[i]) for i, shape in enumerate(shapes)) + "\n")
    units = units_of(*family)
    groups, reasons = D.split_family(units, "keep")
    assert not reasons  # every place above is a build-time place
    recs = [D._build_template(g, "keep") for g, dummy in groups]
    assert len(recs) == (1 if any(varying) and len(set(family)) > 1 else len(recs))
    for rec in recs:
        if rec is None:
            continue
        assert len(rec["proven"]) == len(rec["units"])
        for n, u in enumerate(rec["units"]):
            values = dict((p.name, p.values[n]) for p in rec["params"])
            assert D.render(rec["text"], rec["params"], values) == D.normal_text(u.rep.directives, u.instructions)


# -- grouping and naming on real files ----------------------------------------------------------

def test_exact_groups_names_collisions_and_canonical_in_output(tmp_path):
    same = "FROM nginx:1.25\nCOPY site /usr/share/nginx/html\n"
    other = "FROM nginx:1.25\nCOPY www /usr/share/nginx/html\n"
    write(tmp_path, {
        "web/Dockerfile": same, "docker/web/Dockerfile": "# copy\n" + same,
        "a/web/Dockerfile": other, "b/web/Dockerfile": other,
        "docker/templates/web.Dockerfile": "FROM scratch\n"})
    plan = D.plan_dockerfiles(str(tmp_path), templates=False)
    canon = sorted(g["canonical"] for g in plan.exact_groups)
    # "web" is taken by an unrelated file in the output folder: -2, -3 in path order.
    assert canon == ["docker/templates/web-2.Dockerfile", "docker/templates/web-3.Dockerfile"]
    assert plan.writes["docker/templates/web-3.Dockerfile"] == same.encode()  # the shortest path's bytes
    assert plan.removals == ["a/web/Dockerfile", "b/web/Dockerfile", "docker/web/Dockerfile", "web/Dockerfile"]
    # A member already in the output folder is the canonical one; nothing new is written.
    write(tmp_path, {"docker/templates/web-2.Dockerfile": other})
    for rel in ("a/web/Dockerfile",):
        os.remove(os.path.join(str(tmp_path), rel))
    plan = D.plan_dockerfiles(str(tmp_path), templates=False)
    g = [x for x in plan.exact_groups if x["canonical"] == "docker/templates/web-2.Dockerfile"][0]
    assert g["created"] is False and "b/web/Dockerfile" in plan.removals
    assert "docker/templates/web-2.Dockerfile" not in plan.writes


def test_only_one_removable_copy_is_left_alone(tmp_path):
    same = "FROM nginx:1.25\n"
    write(tmp_path, {"a/Dockerfile": same, "b/Dockerfile": same,
                     "build.sh": "docker build -f a/Dockerfile a\n"})
    plan = D.plan_dockerfiles(str(tmp_path))
    assert not plan.writes and not plan.removals
    reasons = dict((x["path"], x["reason"]) for x in plan.left_alone)
    assert reasons == {"a/Dockerfile": "referenced by build.sh:1, rewrite by hand",
                       "b/Dockerfile": "identical to a/Dockerfile; only one copy could go"}


def test_scan_references_literal_absolute_relative_dir_and_dynamic():
    members = {"agents/x/Dockerfile", "docker/base/Dockerfile.py"}
    dirs = {"agents/x": {"agents/x/Dockerfile"}}
    text = ("cp /opt/sutazaiapp/docker/base/Dockerfile.py /tmp\n"
            "for d in agents/*; do docker build -f \"$d/Dockerfile\" \"$d\"; done\n")
    found, dynamic = D.scan_references("scripts/a.sh", text, members, dirs)
    assert found == {"docker/base/Dockerfile.py": 1} and [t for dummy, t in dynamic] == ["$d/Dockerfile"]
    found, dummy = D.scan_references("agents/x/build.sh", "docker build -t x .\n", members, dirs)
    assert found == {"agents/x/Dockerfile": 1}
    found, dummy = D.scan_references("Makefile", "x:\n\tdocker build agents/x\n\tls agents/x-old\n", members, dirs)
    assert found == {"agents/x/Dockerfile": 2}
    # A folder named on a line that builds nothing does not count.
    assert D.scan_references("a.py", "open('agents/x/config.json')\n", members, dirs)[0] == {}
    assert D.scan_references("agents/y.sh", "docker build -f x/Dockerfile ../agents/x\n", members, dirs)[0] == \
        {"agents/x/Dockerfile": 1}


def test_symlink_and_own_dockerignore_are_kept(tmp_path):
    text = "FROM nginx:1.25\n"
    write(tmp_path, {"a/Dockerfile": text, "b/Dockerfile": text, "c/Dockerfile": text,
                     "c/Dockerfile.dockerignore": "*.log\n"})
    os.symlink("../a/Dockerfile", os.path.join(str(tmp_path), "b", "Dockerfile.link"))
    plan = D.plan_dockerfiles(str(tmp_path))
    left = dict((x["path"], x["reason"]) for x in plan.left_alone)
    assert left["a/Dockerfile"] == "symlink b/Dockerfile.link points to it"
    assert left["c/Dockerfile"] == "has its own Dockerfile.dockerignore"
    assert left["b/Dockerfile.link"].startswith("symlink")
    assert plan.removals == [] and plan.writes == {}


def test_read_dockerfile_not_utf8(tmp_path):
    p = tmp_path / "Dockerfile"
    p.write_bytes(b"FROM a\nLABEL x=\xff\n")
    e = D.read_dockerfile(str(tmp_path), TreeFile("Dockerfile", str(p), str(p), False))
    assert e.status == "unreadable" and e.line == 2 and "UTF-8" in e.reason


# -- Compose edits and the Splicer additions ------------------------------------------------------

def compose(text):
    return _compose.compose_tree(text, "docker-compose.yml")


def test_splicer_scalar_to_block_keeps_comment_and_indent():
    text = "services:\n    web:\n        build: ./web   # the site\n        image: x\n"
    tree = compose(text)
    svc = _compose.services(tree)[0][1]
    key, value = [(k, v) for k, v in svc.value if k.value == "build"][0]
    sp = _compose.Splicer(text)
    assert sp.scalar_to_block(key, value, ["context: ./web", "dockerfile: D"], 4)
    assert sp.apply() == ("services:\n    web:\n        build:\n            context: ./web   # the site\n"
                          "            dockerfile: D\n        image: x\n")
    # Not on the key's line, or an alias: refused, nothing planned.
    text2 = "x: &b ./web\nservices:\n  web:\n    build: *b\n"
    svc2 = _compose.services(compose(text2))[0][1]
    k2, v2 = [(k, v) for k, v in svc2.value if k.value == "build"][0]
    sp2 = _compose.Splicer(text2)
    assert not sp2.scalar_to_block(k2, v2, ["a: b"]) and len(sp2) == 0


def test_splicer_append_to_mapping_and_sequence_and_flow_refused():
    text = ("services:\n  a:\n    build:\n      context: .\n      args:\n        - A=1\n        - B=2  # two\n"
            "    image: a\n  b:\n    build: {context: .}\n")
    tree = compose(text)
    a = _compose.get(_compose.get(tree, "services"), "a")
    build = _compose.get(a, "build")
    args = _compose.get(build, "args")
    sp = _compose.Splicer(text)
    assert sp.append_to_sequence(args, ["- C=3"])
    assert sp.append_to_mapping(a, ["restart: always"])
    out = sp.apply()
    assert "        - B=2  # two\n        - C=3\n    image: a\n    restart: always\n  b:" in out
    b = _compose.get(_compose.get(tree, "services"), "b")
    assert _compose.Splicer(text).mapping_insertion(_compose.get(b, "build")) is None


def test_existing_splicer_behaviour_unchanged():
    text = "services:\n  a:\n    env_file:\n      - x.env\n      - y.env\n"
    tree = compose(text)
    items = _compose.env_files_of(_compose.services(tree)[0][1])
    sp = _compose.Splicer(text)
    sp.replace(items[0]["node"], "z.env")
    assert sp.delete_item(items[1]["node"])
    assert sp.apply() == "services:\n  a:\n    env_file:\n      - z.env\n"


def test_edit_compose_both_forms_anchor_and_data_check():
    text = ("x-build: &b\n  context: ./shared\n  dockerfile: Dockerfile\n"
            "services:\n  one:\n    build: *b\n  two:\n    build: *b\n"
            "  three:\n    build: ./three\n  four:\n    build:\n      context: four\n      args:\n        K: v\n")
    tree = compose(text)
    refs = D.build_refs("docker-compose.yml", text, tree)
    assert [(r.service, r.form, r.context, r.dockerfile) for r in refs] == [
        ("one", "mapping", "shared", "shared/Dockerfile"), ("two", "mapping", "shared", "shared/Dockerfile"),
        ("three", "string", "three", "three/Dockerfile"), ("four", "mapping", "four", "four/Dockerfile")]
    edits = [(r, "../t.Dockerfile", [("TPL_X", "3.10")]) for r in refs]
    new = D.edit_compose("docker-compose.yml", text, tree, edits)
    data = YAML(typ="safe", pure=True).load(new)
    assert data["services"]["one"]["build"] == data["x-build"] == {
        "context": "./shared", "dockerfile": "../t.Dockerfile", "args": {"TPL_X": "3.10"}}
    assert data["services"]["three"]["build"] == {"context": "./three", "dockerfile": "../t.Dockerfile",
                                                  "args": {"TPL_X": "3.10"}}
    assert data["services"]["four"]["build"]["args"] == {"K": "v", "TPL_X": "3.10"}
    # Only the build entries changed: the anchored mapping is edited once, in place.
    assert new.count("TPL_X") == 3 and new.startswith("x-build: &b\n  context: ./shared\n  dockerfile: ../t.Dockerfile\n")


def test_edit_problems_are_reported():
    text = ("x: &m\n  dockerfile: Dockerfile\nservices:\n  a:\n    build: {context: .}\n"
            "  b:\n    build:\n      <<: *m\n      context: b\n  c:\n    build:\n      context: c\n      args: {A: 1}\n")
    tree = compose(text)
    problems = dict((r.service, D.edit_problem(text, r, True)) for r in D.build_refs("c.yml", text, tree))
    assert problems == {"a": "build: is a flow-style mapping", "b": "build.dockerfile comes from a YAML merge key",
                        "c": "build.args is a flow-style mapping"}


def test_interpolated_absolute_and_remote_builds_are_unresolved():
    text = ("services:\n  a:\n    build: ${CTX}\n  b:\n    build:\n      context: /opt/x\n"
            "  c:\n    build: https://github.com/x/y.git\n  d:\n    build:\n      context: .\n      dockerfile_inline: FROM a\n")
    refs = D.build_refs("docker-compose.yml", text, compose(text))
    assert [(r.service, r.unresolved.split(" ")[0]) for r in refs] == [
        ("a", "interpolated"), ("b", "context"), ("c", "context"), ("d", "dockerfile_inline")]


def test_group_names():
    instrs = D.parse_dockerfile("FROM python:3.11-slim\n", "x")[1]
    assert D.label("docker/base/Dockerfile.agent-x") == "agent-x" and D.label("img/web.Dockerfile") == "web"
    assert D.label("agents/alpha/Dockerfile") == "alpha" and D.label("Dockerfile") == "root"
    assert D.group_name(["monitoring/Dockerfile", "docker/monitoring/Dockerfile"], instrs, False) == "monitoring"
    assert D.group_name(["services/mcp-files/Dockerfile", "services/mcp-http/Dockerfile"], instrs, True) == "mcp"
    assert D.group_name(["agents/alpha/Dockerfile", "agents/beta/Dockerfile"], instrs, True) == "agents-python-3.11-slim"
    assert D.group_name(["agents/a/Dockerfile", "docker/agents/a/Dockerfile", "agents/b/Dockerfile"], instrs, True) == \
        "agents-python-3.11-slim"
