#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection at .build/sanity/ansible_collections/sutazai/consolidation.
#
# ansible-test bootstraps pip in its virtualenvs from a script it downloads from a host that
# is not reachable here (GUIDE section 5.7). A stand-in at the cache path it checks first uses
# ensurepip, then installs the requested packages from the machine's package index.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv="$repo/.venv"
dest="$repo/.build/sanity/ansible_collections/sutazai/consolidation"

# The "shellcheck" sanity test needs the shellcheck program (it is skipped with a warning without it).
if ! command -v shellcheck >/dev/null 2>&1; then
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q shellcheck; } >/tmp/sutazai-shellcheck-install.log 2>&1 \
    || { echo "installing shellcheck failed (see /tmp/sutazai-shellcheck-install.log)" >&2; exit 1; }
fi

pip_version=$("$venv/bin/python" - <<'PY'
import re, pathlib, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$cache")"
cat >"$cache" <<'PY'
# Stand-in for get-pip.py (sutazai.consolidation tests/sanity/run-sanity.sh).
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
os.environ.pop("PIP_CONFIG_FILE", None)  # ensurepip points it at /dev/null
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
PY

# Copy the files git would ship (tracked and new, not ignored) into the collection path.
rm -rf "$dest"
mkdir -p "$dest"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | \
   tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$dest"
cd "$dest"
git init -q . && git add -A >/dev/null 2>&1
export PATH="$venv/bin:$PATH"
ansible-test sanity --python 3.11 --color no "$@"
