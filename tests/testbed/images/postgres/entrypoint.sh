#!/bin/sh
# Start the Debian cluster, create the login role and database from the environment when they
# do not exist yet (a persisted data volume keeps them), then wait on the server. As in the
# official postgres image, POSTGRES_USER is a superuser (pg_dumpall runs as it). The password
# reaches psql through its environment (never argv).
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
POSTGRES_USER="${POSTGRES_USER:-sutazai}"
POSTGRES_DB="${POSTGRES_DB:-sutazai}"
bin=$(ls -d /usr/lib/postgresql/*/bin)
conf=$(ls -d /etc/postgresql/*/main)
data=$(ls -d /var/lib/postgresql/*/main)
mkdir -p /var/run/postgresql && chown postgres:postgres /var/run/postgresql
su postgres -s /bin/sh -c "exec $bin/postgres -D $data -c config_file=$conf/postgresql.conf" &
pid=$!
trap 'kill -INT $pid' INT TERM
i=0
until su postgres -s /bin/sh -c "$bin/pg_isready -q -h /var/run/postgresql"; do
  i=$((i + 1)); [ $i -lt 300 ] || { echo "postgres did not start" >&2; exit 1; }
  sleep 0.1
done
export POSTGRES_USER POSTGRES_DB POSTGRES_PASSWORD
# psql (15+) reads the values from its environment with \getenv; :'x' quotes them as literals.
cat <<'SQL' | su postgres -s /bin/sh -c "psql -q -v ON_ERROR_STOP=1 -h /var/run/postgresql" >/dev/null
\getenv user POSTGRES_USER
\getenv db POSTGRES_DB
\getenv pw POSTGRES_PASSWORD
SELECT format('CREATE ROLE %I SUPERUSER LOGIN PASSWORD %L', :'user', :'pw')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I SUPERUSER', :'user') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
echo "SUTAZAI-TESTBED-READY"
wait $pid
