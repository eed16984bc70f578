# -*- coding: utf-8 -*-
"""Unit tests: secret detection and redaction (``_redaction``), one test per rule, on real text."""

from __future__ import annotations

import os

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _redaction as R
from ansible_collections.sutazai.consolidation.plugins.module_utils._diff import diff_payload, payloads
from ansible_collections.sutazai.consolidation.plugins.module_utils._redaction import redact_text, redacted

from helpers import CORPUS


def _hidden(out, *values):
    for v in values:
        assert v not in out, (v, out)


def test_placeholder_format_and_fingerprint():
    assert redacted("s3cr3t-value") == "<redacted %s>" % R.fingerprint("s3cr3t-value")
    assert R.PLACEHOLDER_RE.fullmatch(redacted("x"))
    # Already redacted text stays as it is (idempotent).
    once = redact_text("POSTGRES_PASSWORD=s3cr3t-value\n")
    assert redact_text(once) == once == "POSTGRES_PASSWORD=%s\n" % redacted("s3cr3t-value")


def test_url_user_and_password():
    out = redact_text("DATABASE_URL=postgresql://sutazai:Pg-Pass-991x@postgres:5432/sutazai\n"
                      "--extra-index-url https://ci-bot:s3cr3t@pypi.local/simple and https://pypi.org/simple")
    _hidden(out, "Pg-Pass-991x", "s3cr3t", "ci-bot")
    assert "@postgres:5432/sutazai" in out and "postgresql://" in out
    assert out.endswith("https://pypi.org/simple")
    assert redacted("Pg-Pass-991x") in out  # the password's own placeholder: same as under its key


def test_url_without_user():
    out = redact_text("REDIS_URL=redis://:Redis-Pw-77ab@redis:6379/0")
    assert out == "REDIS_URL=redis://:%s@redis:6379/0" % redacted("Redis-Pw-77ab")


def test_url_token_as_user_and_interpolated_credentials_kept():
    out = redact_text("git+https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x/y.git")
    _hidden(out, "ghp_abcdef")
    kept = "postgresql://${POSTGRES_USER:-sutazai}:${POSTGRES_PASSWORD}@postgres:5432/db"
    assert redact_text(kept) == kept
    # The account of a credential pair is hidden even when the password is a reference.
    assert redact_text("https://ci-bot:${PIP_TOKEN}@pypi.local/simple") == \
        "https://%s:${PIP_TOKEN}@pypi.local/simple" % redacted("ci-bot")
    assert redact_text("ssh://git@github.com/org/repo.git") == "ssh://git@github.com/org/repo.git"


def test_query_tokens():
    text = ("ALERT=https://alerts.example.com/hook?channel=ops&token=Tk-9x8y7z&page=2\n"
            "s3: https://b.s3.amazonaws.com/f?X-Amz-Signature=abc123def&X-Amz-Expires=60\n"
            "api: https://api.example.com/v1/items?api_key=AK-1x2y&access_token=at-55aa&sig=0f0f0f#k\n")
    out = redact_text(text)
    _hidden(out, "Tk-9x8y7z", "abc123def", "AK-1x2y", "at-55aa", "sig=0f0f0f")
    assert "channel=ops" in out and "page=2" in out and "X-Amz-Expires=60" in out


def test_path_tokens():
    out = redact_text("SLACK=https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX\n"
                      "status: https://status.example.com/api/abcd1234EFGH5678ijkl9012/ping\n")
    _hidden(out, "XXXXXXXXXXXXXXXX", "abcd1234EFGH5678ijkl9012")
    assert "https://hooks.slack.com/services/T000/B000/<redacted sha256:" in out
    assert "/ping" in out


def test_trailing_comment_quotes_and_export():
    out = redact_text("SMTP_PASSWORD=hunter2 # mail\nexport API_KEY='abc123'\nJWT_SECRET=\"Jwt-#x\" # c\n"
                      "# OLD_PASSWORD=was-Secret-1\n")
    assert out.split("\n")[0] == "SMTP_PASSWORD=%s # mail" % redacted("hunter2")
    assert out.split("\n")[1] == "export API_KEY='%s'" % redacted("abc123")
    assert out.split("\n")[2] == 'JWT_SECRET="%s" # c' % redacted("Jwt-#x")
    _hidden(out, "was-Secret-1")


def test_yaml_json_and_list_form_environment():
    text = "\n".join([
        "services:",
        "  frontend:",
        "    environment:",
        "      jwt_secret: hunter3",
        "      - STREAMLIT_API_TOKEN=st-9Hq2Lm7Xc4Vb8Nz1Kd6Pw3Rt",
        '      - "RABBITMQ_DEFAULT_PASS=Quoted-Item-6"',
        "      - LOG_LEVEL=INFO",
        '  {"db_password": "pw-9", "user": "sutazai"}',
        '    command: ["redis-server", "--requirepass", "Req-Pass-13"]',
    ])
    out = redact_text(text)
    _hidden(out, "hunter3", "st-9Hq2", "Quoted-Item-6", "pw-9", "Req-Pass-13")
    assert '- "RABBITMQ_DEFAULT_PASS=%s"' % redacted("Quoted-Item-6") in out
    assert "- LOG_LEVEL=INFO" in out and '"user": "sutazai"' in out


def test_anchors_aliases_and_merge_keys():
    text = "\n".join([
        "x-admin-pw: &admin_pw Anchor-Secret-42",
        "x-env: &env",
        "  SHARED_TOKEN: Shared-Tok-77",
        "services:",
        "  db:",
        "    environment:",
        "      ADMIN_PASSWORD: *admin_pw",
        "      <<: *env",
        ""])
    found = R.secrets_in_text(text, "docker-compose.yml")
    assert {"Anchor-Secret-42", "Shared-Tok-77"} <= found
    out = diff_payload("docker-compose.yml", None, text)["after"]
    _hidden(out, "Anchor-Secret-42", "Shared-Tok-77")
    assert "x-admin-pw: &admin_pw <redacted sha256:" in out and "ADMIN_PASSWORD: *admin_pw" in out


def test_known_secret_propagates_across_files():
    env = "POSTGRES_PASSWORD=Secure-Pg-Pass-77cc88dd\n"
    config = '{"db": {"dsn_note": "uses Secure-Pg-Pass-77cc88dd"}, "host": "postgres"}\n'
    first, second = payloads([(".env", env, None), ("config/app.json", None, config)])
    _hidden(first["before"] + second["after"], "Secure-Pg-Pass-77cc88dd")
    assert redacted("Secure-Pg-Pass-77cc88dd") in second["after"] and '"host": "postgres"' in second["after"]
    # URL-quoted forms too; short weak values only as a word of their own.
    out = redact_text("a=p%40ss-W0rd b=localhost", {"p@ss-W0rd", "local"})
    assert "p%40ss" not in out and "localhost" in out


def test_tree_secrets_env_files_compose_and_env_file_targets(tmp_path):
    root = tmp_path / "root"
    (root / "config").mkdir(parents=True)
    (root / ".env").write_text("SMTP_PASSWORD=Smtp-Pw-12ab # relay\nLOG_LEVEL=INFO\n")
    (root / "config" / "app.conf").write_text("MAIL_API_KEY=Mail-Key-34cd\n")
    (root / "docker-compose.yml").write_text(
        "services:\n  app:\n    env_file: [config/app.conf]\n    environment:\n      - DB_PASS=List-Pw-56ef\n")
    (root / "requirements.txt").write_text("--index-url https://u:Pip-Tok-78ab@pypi.example/simple\nflask\n")
    (root / "backups").mkdir()
    (root / "backups" / ".env").write_text("OLD_TOKEN=Backup-Tok-90\n")
    found = R.collect_tree_secrets(str(root), exclude_paths=[str(root / "backups")])
    assert {"Smtp-Pw-12ab", "Mail-Key-34cd", "List-Pw-56ef", "Pip-Tok-78ab"} <= found
    assert "Backup-Tok-90" not in found and "INFO" not in found
    # secrets_in_files reads a copy under the name of the file it copies.
    copy = tmp_path / "copy-1"
    copy.write_text("API_TOKEN=Copy-Tok-12\n")
    assert R.secrets_in_files([(str(copy), ".env")]) == {"Copy-Tok-12"}


def test_private_key_blocks_and_token_shapes():
    out = redact_text('TLS_KEY="-----BEGIN RSA PRIVATE KEY-----\nMIIBdemo0key\n-----END RSA PRIVATE KEY-----"\n'
                      "curl -H 'Authorization: Bearer abcdefghijklmnop1234' https://x\n"
                      "echo xoxb-1234567890-abcdefABCDEF and AKIAABCDEFGHIJKLMNOP\n"
                      "-----BEGIN PUBLIC KEY-----\nMIIpublic\n-----END PUBLIC KEY-----\n")
    _hidden(out, "MIIBdemo0key", "abcdefghijklmnop1234", "xoxb-1234567890", "AKIAABCDEFGHIJKLMNOP")
    assert "-----BEGIN RSA PRIVATE KEY-----\n<redacted sha256:" in out and "MIIpublic" in out


def test_dockerfile_env_arg_and_interpolation_defaults():
    out = redact_text("ARG DB_PASSWORD=Arg-Pw-1\nENV API_TOKEN=Env-Tok-2 OTHER=1\nENV DB_SECRET legacy-Sec-3\n"
                      "CACHE_PASSWORD: ${CACHE_PASSWORD:-Def-Pw-4}\nURL: redis://:${REDIS_PASSWORD:-Def-Pw-5}@r\n",
                      name="Dockerfile")
    _hidden(out, "Arg-Pw-1", "Env-Tok-2", "legacy-Sec-3", "Def-Pw-4", "Def-Pw-5")
    assert "OTHER=1" in out and "${CACHE_PASSWORD:-<redacted sha256:" in out


@pytest.mark.parametrize("text", [
    "POSTGRES_PASSWORD=change-me",
    "POSTGRES_PASSWORD=${POSTGRES_PASSWORD}",
    "REDIS_PASSWORD: ${REDIS_PASSWORD:?set it}",
    "JWT_SECRET=",
    "API_KEY=true",
    "OLLAMA_URL=http://ollama:11434",
    "see https://github.com/org/repo/blob/main/README.md and https://docs.docker.com/compose/",
    "    image: postgres@sha256:0f3c5a1c9b4f2f0a8b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928",
    "https://github.com/org/repo/commit/0123456789abcdef0123456789abcdef01234567",
    "AGENT_REGISTRY: /opt/sutazaiapp/config/agents/master_registry.json",
    "https://example.com/reports/2025-08-09T12-00-00Z-report.html",
    "tiktoken==0.8.0                     # OpenAI tokenizer",
    "sha256: 5e504040547d9db9689470c6de9439c76f98420bff6f4d0dd6f7b387d9d2b799",
    "GF_USERS_ALLOW_SIGN_UP: \"false\"",
])
def test_no_false_positives(text):
    assert redact_text(text) == text


def test_source_code_counts_only_quoted_literals():
    code = 'self.password = password\nSECRET_KEY = os.getenv("SECRET_KEY")\ntoken = "Lit-Tok-99"\n'
    out = redact_text(code, name="backend/app/core/config.py")
    assert "self.password = password" in out and 'os.getenv("SECRET_KEY")' in out
    _hidden(out, "Lit-Tok-99")


def test_weak_values_are_not_searched_for_everywhere():
    # Redacted where they stand, but never replaced inside other words or names.
    for value in ("local", "postgres", "sutazai_password", "512", "your_smtp_password_here", "docker/postgres"):
        assert not R.propagates(value), value
    for value in ("hunter2", "Secure-Pg-Pass-77cc88dd", "CANARY-01-aB3dE5fG7hJ9kL1mN3pQ"):
        assert R.propagates(value), value


def test_redact_data_and_urls_only():
    data = {"msg": "kept verbatim: --index-url https://u:Tok-1a2b@h/simple", "n": 3,
            "rows": [{"purpose": "set API_TOKEN=abcd1234efgh5678ijkl9012mnop"}]}
    out = R.redact_data(data)
    _hidden(repr(out), "Tok-1a2b", "abcd1234efgh")
    assert out["n"] == 3
    assert R.redact_urls("PASSWORD=x https://u:p4ss@h") == "PASSWORD=x https://%s:%s@h" % (redacted("u"), redacted("p4ss"))


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present")
def test_corpus_tree_secrets_are_not_names_or_paths():
    found = R.collect_tree_secrets(CORPUS)
    searched = [v for v in found if R.propagates(v)]
    assert not [v for v in searched if "/" in v or " " in v or v.startswith("=")], searched
