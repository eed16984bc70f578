# -*- coding: utf-8 -*-
"""Unit tests: shim detection and reference finding (config phase), on real files."""

from __future__ import annotations

import os

import ast

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _shims


def _classify(src):
    return _shims.classify_shim(ast.parse(src))


@pytest.mark.parametrize("src, targets", [
    ("from app.core.config import *\n", ["app.core.config"]),
    ('"""Compatibility shim."""\nfrom __future__ import annotations\n\nfrom .settings import Settings, get_settings\n\n'
     '__all__ = ["Settings", "get_settings"]\n', [".settings"]),
    ("from app.core.config import Settings as _S, get_settings\n# keep the old name\nAppSettings = _S\n"
     "settings_mod = get_settings\n__all__ = ('AppSettings',)\n__all__ += ['settings_mod']\n", ["app.core.config"]),
    ("try:\n    from app.db import engine\nexcept ImportError:\n    from backend.app.db import engine\n",
     ["app.db", "backend.app.db"]),
    ("try:\n    from a import x\nexcept (ImportError, ModuleNotFoundError):\n    pass\n", ["a"]),
    ("import app.core.config as config  # noqa\npass\n", ["app.core.config"]),
    ("from . import settings\nfrom .. import base\n", [".", ".."]),
    ("from app.core import config\n__all__ = config.__all__\n", ["app.core"]),
    ("from x import a\nfrom x import b\n", ["x"]),
])
def test_shims_are_recognised(src, targets):
    found = _classify(src)
    assert found is not None
    assert found[0] == targets


@pytest.mark.parametrize("src", [
    "",
    '"""Only a docstring."""\n',
    "from __future__ import annotations\n",
    "from app.core.config import get_settings\nsettings = get_settings()\n",
    "from app.core.config import Settings\n\n\ndef get():\n    return Settings()\n",
    "from app.core.config import Settings\n\n\nclass Local(Settings):\n    pass\n",
    "import os\nif os.environ.get('X'):\n    from a import b\n",
    "try:\n    from a import b\nexcept Exception:\n    b = None\n",
    "try:\n    from a import b\nexcept ImportError:\n    b = None\n",
    "try:\n    from a import b\nfinally:\n    pass\n",
    "from a import b\nX = Y\n",
    "from a import b\n__all__ = [b]\n",
    "from a import b\n__all__ = ['b'] + ['c']\n",
    "from a import b\nprint(b)\n",
    "from a import b\nb.x = 1\n",
])
def test_real_modules_are_not_shims(src):
    assert _classify(src) is None


def _tree(root, files):
    for rel, text in files.items():
        path = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(text, bytes) else "w"
        with open(path, mode) as f:
            f.write(text)
    return str(root)


SHIM = "from app.core.config import *\n"


def _refs(scan, rel):
    return [(r["path"], r["line"], r["kind"]) for r in next(s for s in scan.shims if s.rel == rel).references]


def test_package_and_tool_files_are_never_candidates(tmp_path):
    root = _tree(tmp_path, {"pkg/__init__.py": SHIM, "pkg/__main__.py": SHIM, "tests/conftest.py": SHIM,
                            "setup.py": "from setuptools import setup\n", "pkg/sitecustomize.py": SHIM,
                            "pkg/shim.py": SHIM})
    scan = _shims.scan(root)
    assert [s.rel for s in scan.shims] == ["pkg/shim.py"]


def test_relative_absolute_nested_and_dynamic_references(tmp_path):
    root = _tree(tmp_path, {
        "backend/core/config.py": SHIM,
        "backend/core/other.py": SHIM,
        "backend/core/dyn.py": SHIM,
        "backend/core/patched.py": SHIM,
        "backend/core/unused.py": SHIM,
        "backend/app/api/v1/routes.py": "def f():\n    from ...core import x\n    return x\n\n\nfrom ..deps import y\n",
        "backend/core/use_rel.py": "import os\nfrom . import config\nprint(os)\n",
        "backend/app/main.py": "import os\n\n\ndef g():\n    from core.other import thing\n    return thing\n",
        "backend/app/loader.py": "import importlib\nmod = importlib.import_module('core.dyn')\n",
        "tests/test_x.py": "from unittest import mock\n\n\n@mock.patch('backend.core.patched.settings')\ndef test():\n    pass\n",
    })
    scan = _shims.scan(root)
    assert _refs(scan, "backend/core/config.py") == [("backend/core/use_rel.py", 2, "import")]
    assert _refs(scan, "backend/core/other.py") == [("backend/app/main.py", 5, "import")]
    assert _refs(scan, "backend/core/dyn.py") == [("backend/app/loader.py", 2, "dynamic")]
    assert _refs(scan, "backend/core/patched.py") == [("tests/test_x.py", 4, "string")]
    assert _refs(scan, "backend/core/unused.py") == []
    assert _shims.unused_shims(scan.shims) == set(["backend/core/unused.py"])


def test_relative_import_above_the_root_matches_nothing(tmp_path):
    root = _tree(tmp_path, {"a/shim.py": SHIM, "a/x.py": "from .... import shim\nv = 1\n"})
    assert _refs(_shims.scan(root), "a/shim.py") == []


def test_suffix_rule_versus_python_roots(tmp_path):
    files = {
        "backend/core/config.py": SHIM,
        "backend/app/main.py": "from core.config import settings\nv = settings\n",
        "services/worker/run.py": "from core.config import settings\nw = settings\n",
    }
    root = _tree(tmp_path, files)
    # Default: any folder may be on sys.path, so both importers count.
    assert [r[0] for r in _refs(_shims.scan(root), "backend/core/config.py")] == ["backend/app/main.py", "services/worker/run.py"]
    # With backend as the only import root, services/worker/run.py imports a different module.
    exact = _shims.scan(root, python_roots=["backend"])
    assert [r[0] for r in _refs(exact, "backend/core/config.py")] == ["backend/app/main.py"]
    # A root that does not hold the shim: nothing refers to it.
    assert _refs(_shims.scan(root, python_roots=["services"]), "backend/core/config.py") == []
    # The importing file's own folder is always a root (scripts run as python dir/file.py).
    side = _tree(tmp_path / "side", {"tools/helper.py": SHIM, "tools/cli.py": "import helper\nv = helper\n"})
    assert _refs(_shims.scan(side, python_roots=["."]), "tools/helper.py") == [("tools/cli.py", 1, "import")]


def test_string_and_text_file_references(tmp_path):
    root = _tree(tmp_path, {
        "backend/app/legacy_main.py": SHIM,
        "backend/app/wsgi_shim.py": SHIM,
        "backend/core/config.py": SHIM,
        "backend/core/settings.py": SHIM,
        "backend/gone.py": SHIM,
        "backend/run.py": "import subprocess\nsubprocess.call(['python', 'backend/core/settings.py'])\n",
        "docker/backend/Dockerfile": "FROM python:3.11-slim\nCOPY backend /app\nCMD [\"uvicorn\", \"legacy_main:app\"]\n",
        "docker-compose.yml": "services:\n  web:\n    command: gunicorn app.wsgi_shim:application\n    volumes:\n"
                              "      - ./backend/app/core/config.py:/app/core/config.py\n",
        "README.md": "backend/gone.py is documented here, but markdown is not searched\n",
    })
    scan = _shims.scan(root)
    assert _refs(scan, "backend/app/legacy_main.py") == [("docker/backend/Dockerfile", 3, "text")]
    assert _refs(scan, "backend/app/wsgi_shim.py") == [("docker-compose.yml", 3, "text")]
    # Same file name and parent folder: a path in a container (/app/core/config.py) counts.
    assert _refs(scan, "backend/core/config.py") == [("docker-compose.yml", 5, "text")]
    assert _refs(scan, "backend/core/settings.py") == [("backend/run.py", 2, "string")]
    assert _refs(scan, "backend/gone.py") == []
    assert scan.text_files == 2
    # Python code only: the text mentions do not count.
    code_only = _shims.scan(root, text_references=False)
    assert _refs(code_only, "backend/app/legacy_main.py") == []


def test_unparsable_files_are_listed_and_searched_as_text(tmp_path):
    root = _tree(tmp_path, {
        "lib/compat.py": SHIM,
        "lib/unused.py": SHIM,
        "scripts/old.py": "import sys\nprint 'using compat'\nimport compat\n",
        "scripts/latin.py": b"# -*- coding: latin-1 -*-\nfrom lib.unused import x\nname = '\xe9'\n",
        "scripts/bad_bytes.py": b"from a import b\nx = '\xff\xfe'\n",
    })
    scan = _shims.scan(root)
    invalid = dict((e["path"], e) for e in scan.invalid)
    assert sorted(invalid) == ["scripts/bad_bytes.py", "scripts/old.py"]
    assert (invalid["scripts/old.py"]["line"], invalid["scripts/old.py"]["column"]) == (2, 1)
    assert invalid["scripts/old.py"]["kind"] == "syntax"
    assert "Missing parentheses" in invalid["scripts/old.py"]["message"]
    # "compat" appears in the unparsable file (lines 2 and 3): kept, with the kind "unparsed".
    assert _refs(scan, "lib/compat.py") == [("scripts/old.py", 2, "unparsed"), ("scripts/old.py", 3, "unparsed")]
    # The coding cookie is honoured: the latin-1 file parses and its import counts.
    assert _refs(scan, "lib/unused.py") == [("scripts/latin.py", 2, "import")]
    assert "scripts/bad_bytes.py" not in [s.rel for s in scan.shims]


def test_chains_of_unused_shims_go_together_and_keep_patterns_hold(tmp_path):
    root = _tree(tmp_path, {
        "core/config.py": SHIM,
        "core/legacy.py": "from .config import *\n",
        "core/older.py": "from core.legacy import *\n",
        "core/used.py": SHIM,
        "app.py": "from core.used import x\n\n\ndef main():\n    return x\n",
    })
    scan = _shims.scan(root)
    assert _shims.unused_shims(scan.shims) == set(["core/config.py", "core/legacy.py", "core/older.py"])
    # Keeping the middle link keeps what it imports too.
    assert _shims.unused_shims(scan.shims, keep=["core/legacy.py"]) == set(["core/older.py"])


def test_symlinked_shim_is_not_a_candidate_and_files_are_read_once(tmp_path):
    root = _tree(tmp_path, {"core/config.py": SHIM})
    os.symlink("config.py", os.path.join(root, "core", "alias.py"))
    scan = _shims.scan(root)
    assert [s.rel for s in scan.shims] == ["core/config.py"]
    assert scan.skipped == [{"path": "core/alias.py", "reason": "symlink to a Python file already read"}]
    assert scan.python_files == ["core/config.py"]


def test_target_files_resolve_in_the_tree(tmp_path):
    root = _tree(tmp_path, {
        "backend/app/core/config.py": "X = 1\n",
        "backend/app/core/settings.py": "from .config import X\n",
        "backend/core/config.py": SHIM,
        "backend/core/ext.py": "from pydantic import BaseModel\n",
    })
    scan = _shims.scan(root)
    by = dict((s.rel, s) for s in scan.shims)
    assert by["backend/core/config.py"].target_files == ["backend/app/core/config.py"]
    assert by["backend/app/core/settings.py"].target_files == ["backend/app/core/config.py"]
    assert by["backend/core/ext.py"].target_files == []
    assert by["backend/core/ext.py"].targets == ["pydantic"]


def test_backup_and_excluded_folders_are_not_read(tmp_path):
    root = _tree(tmp_path, {"core/config.py": SHIM, "backups/run/app.py": "from core.config import x\n",
                            "node_modules/x/y.py": "from core.config import x\n",
                            ".venv/pyvenv.cfg": "home = /usr\n", ".venv/lib/z.py": "from core.config import x\n"})
    scan = _shims.scan(root, exclude_paths=(os.path.join(root, "backups"),))
    assert _refs(scan, "core/config.py") == []
    assert scan.python_files == ["core/config.py"]


def test_a_file_that_does_not_parse_is_named_with_its_position(tmp_path):
    root = _tree(tmp_path, {"core/config.py": SHIM, "broken.py": "from core import config\nx = (1,\n"})
    scan = _shims.scan(root)
    (err,) = scan.invalid
    assert err["path"] == "broken.py" and err["kind"] == "syntax" and err["line"] == 2
    assert _refs(scan, "core/config.py") == [("broken.py", 1, "unparsed")]


def test_import_through_a_symlink_to_a_shim_keeps_it(tmp_path):
    root = _tree(tmp_path, {"core/config.py": SHIM, "app.py": "from core.alias import x\n\n\ndef f():\n    return x\n"})
    os.symlink("config.py", os.path.join(root, "core", "alias.py"))
    scan = _shims.scan(root)
    assert _refs(scan, "core/config.py") == [("app.py", 1, "import")]
    assert _shims.unused_shims(scan.shims) == set()


NAMES = _shims.NamePatterns({"metrics"})


@pytest.mark.parametrize("text", [
    "from app import metrics\n",
    "import app.metrics as m\n",
    "from app.metrics import x\n",
    "x = 1; import metrics\n",
    "from app import (\n    other,  # a comment (with a paren)\n    metrics,\n)\n",
    "from app import other, \\\n    metrics\n",
    'm = importlib.import_module("app.metrics")\n',
    "patch('app.metrics.collect')\n",
    '"a.metrics:app"\n',
    'path = """\n/app/metrics.py\n"""\n',
])
def test_may_refer_keeps_every_place_a_reference_can_be(text):
    assert _shims.may_refer(text, NAMES)


@pytest.mark.parametrize("text", [
    "self.metrics.append(x)\n",
    "metrics = {}\nreturn metrics\n",
    '{"metrics": self.metrics.total}\n',
    "# metrics are collected elsewhere\n",
    '"""Docstring about app.metrics\nspanning lines."""\n',
    "print(f'{self.metrics}')\n",
    "",
])
def test_may_refer_rules_out_places_no_reference_can_be(text):
    assert not _shims.may_refer(text, NAMES)


def test_files_ruled_out_are_not_parsed_and_check_syntax_parses_them(tmp_path):
    root = _tree(tmp_path, {"core/metrics.py": "from app.core.metrics import *\n",
                            "broken_user.py": "def f(:\n    return self.metrics\n",
                            "broken_importer.py": "def f(:\n    pass\nimport core.metrics\n"})
    scan = _shims.scan(root)
    assert [e["path"] for e in scan.invalid] == ["broken_importer.py"]
    assert _refs(scan, "core/metrics.py") == [("broken_importer.py", 3, "unparsed")]
    full = _shims.scan(root, check_syntax=True)
    assert [e["path"] for e in full.invalid] == ["broken_importer.py", "broken_user.py"]
    assert _refs(full, "core/metrics.py") == _refs(scan, "core/metrics.py")


def test_a_docstring_line_that_looks_like_a_definition_only_hides_a_shim(tmp_path):
    root = _tree(tmp_path, {"a/shim.py": '"""Moved.\n\nclass Config: see app.core.\n"""\nfrom app.core import *\n',
                            "b/shim.py": '"""Moved."""\nfrom app.core import *\n'})
    assert [s.rel for s in _shims.scan(root).shims] == ["b/shim.py"]


def test_adjacent_literals_are_judged_one_by_one(tmp_path):
    root = _tree(tmp_path, {"core/config.py": SHIM,
                            "a.py": 'X = ("core.config"\n     "extra")\n\n\ndef f():\n    return X\n',
                            "b.py": 'Y = "core." "config"\n\n\ndef g():\n    return Y\n'})
    scan = _shims.scan(root)
    assert _refs(scan, "core/config.py") == [("a.py", 1, "string")]
