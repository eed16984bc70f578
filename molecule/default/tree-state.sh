# shellcheck shell=bash
set -euo pipefail
cd /opt/sutazaiapp
{ find . \( -path ./backups -o -path ./reports \) -prune -o -printf '%p %y %m %l\n' | sort
  find . \( -path ./backups -o -path ./reports \) -prune -o -type f -print0 | sort -z | xargs -0 sha256sum; }
