# -*- coding: utf-8 -*-
"""Unit tests: the pure logic of the data backups (``_backup``): project names, backup methods,
the pg_dumpall restore filter, Redis passwords, Docker sizes and tar listings, on real files."""

from __future__ import annotations

import io
import tarfile

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _backup as B


def test_project_name_follows_compose_precedence(tmp_path):
    root = tmp_path / "SutazAI.App"
    root.mkdir()
    assert B.default_project_name(str(root)) == "sutazaiapp"
    (root / "docker-compose.yml").write_text("name: ${PROJECT}\nservices: {}\n")
    assert B.default_project_name(str(root), ["docker-compose.yml"]) == "sutazaiapp"  # interpolated: not literal
    (root / "docker-compose.override.yml").write_text("name: Platform_1\nservices: {}\n")
    assert B.default_project_name(str(root), ["docker-compose.yml", "docker-compose.override.yml"]) == "platform_1"
    (root / ".env").write_text("# settings\nCOMPOSE_PROJECT_NAME=\"Live Stack\"\nPOSTGRES_PASSWORD=x\n")
    assert B.default_project_name(str(root), ["docker-compose.yml"]) == "livestack"
    (root / "broken.yml").write_text("services: [\n")
    (root / ".env").write_text("OTHER=1\n")
    assert B.default_project_name(str(root), ["broken.yml"]) == "sutazaiapp"


def _model():
    return {"services": {
        "postgres": {"image": "sutazai-postgres-secure:latest",
                     "volumes": [{"type": "volume", "source": "postgres_data", "target": "/var/lib/postgresql/data"}]},
        "redis": {"image": "redis:7.2-alpine", "volumes": [{"type": "bind", "source": "/srv/redis", "target": "/data"}]},
        "neo4j": {"image": "neo4j:5.13-community", "volumes": [{"type": "volume", "source": "neo4j_data", "target": "/data"}]},
        "rabbitmq": {"build": {"context": "./rabbitmq"}},
        "postgres-exporter": {"image": "prometheuscommunity/postgres-exporter:v0.15.0"},
        "grafana": {"image": "grafana/grafana", "volumes": [{"type": "volume", "source": "grafana_data", "target": "/g"}]},
        "frontend": {"image": "sutazai-frontend"},
        "stopped": {"image": "postgres:16"},
    }, "volumes": {"postgres_data": {"name": "sutazai_postgres_data"}, "neo4j_data": {"name": "sutazai_neo4j_data"},
                   "grafana_data": {"name": "sutazai_grafana_data"}}}


def test_plan_picks_a_method_by_image_word_service_name_or_volumes():
    containers = dict((s, "sutazai-" + s) for s in _model()["services"] if s != "stopped")
    items = dict((i["service"], i) for i in B.plan(_model(), containers))
    assert dict((s, i["method"]) for s, i in items.items()) == {
        "postgres": "pg_dumpall", "redis": "redis_rdb", "neo4j": "offline", "rabbitmq": "offline", "grafana": "volume"}
    assert items["postgres"]["volumes"] == [{"volume": "postgres_data", "name": "sutazai_postgres_data",
                                             "target": "/var/lib/postgresql/data"}]
    assert items["redis"]["volumes"] == []  # a bind mount is the host's file, not a named volume
    assert items["rabbitmq"]["why"] == "service name"
    # A service without a container is not in the plan; the caller's map and exclusions win.
    items = dict((i["service"], i) for i in B.plan(_model(), containers, methods={"grafana": "none", "frontend": "volume"},
                                                   exclude={"neo4j"}))
    assert sorted(items) == ["frontend", "postgres", "rabbitmq", "redis"]
    with pytest.raises(B.BackupError, match="redis: backup method 'dump' is not one of"):
        B.plan(_model(), containers, methods={"redis": "dump"})


def test_image_words():
    assert B.image_words("registry:5000/org/sutazai-postgres_secure.v2:1.0") == ["sutazai", "postgres", "secure", "v2"]
    assert B.image_words("redis@sha256:abc") == ["redis"]
    assert B.image_words(None) == []


def test_restore_filter_drops_only_what_the_target_already_has():
    dump = [b"CREATE ROLE postgres;\n", b"ALTER ROLE postgres WITH SUPERUSER;\n", b'CREATE ROLE "odd ""name""";\n',
            b"CREATE ROLE sutazai;\n", b"DROP ROLE IF EXISTS sutazai;\n", b"DROP ROLE app;\n",
            b"COPY public.t (a) FROM stdin;\n", b"CREATE ROLE postgres;x\n"]
    out = list(B.restore_filter(dump, existing_roles={"postgres", 'odd "name"'}, current_user="sutazai"))
    assert out == [b"ALTER ROLE postgres WITH SUPERUSER;\n", b"CREATE ROLE sutazai;\n", b"DROP ROLE app;\n",
                   b"COPY public.t (a) FROM stdin;\n", b"CREATE ROLE postgres;x\n"]


def test_redis_password_from_environment_or_command():
    def info(env=(), cmd=None):
        return {"Config": {"Env": list(env), "Cmd": cmd}}
    assert B.redis_password(info(["REDIS_PASSWORD=s3cret-Pw1"])) == "s3cret-Pw1"
    assert B.redis_password(info(cmd=["redis-server", "--requirepass", "pw-1", "--appendonly", "yes"])) == "pw-1"
    assert B.redis_password(info(cmd=["sh", "-c", "redis-server --requirepass 'a b' --save 60 1"])) == "a b"
    assert B.redis_password(info(cmd=["redis-server"])) is None
    assert B.secret_values(info(["POSTGRES_PASSWORD=pg-pw", "PATH=/bin"], ["redis-server", "--requirepass", "r-pw"])) == [
        "pg-pw", "r-pw"]


def test_parse_size_reads_dockers_decimal_units():
    assert B.parse_size("102.7MB") == 102700000
    assert B.parse_size("0B") == 0 and B.parse_size("N/A") == 0 and B.parse_size("1.5 GB") == 1500000000
    assert B.parse_size("12kB") == 12000


def test_tar_listing_hashes_files_and_records_dirs_and_links():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind, data in (("./", "dir", None), ("./db", "dir", None), ("./db/a.bin", "file", b"abc"),
                                 ("./current", "link", "db/a.bin")):
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, data
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    assert B.tar_listing(buf) == {".": "dir", "db": "dir", "current": "link:db/a.bin",
                                  "db/a.bin": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
