#!/usr/bin/env bash
# Prepare a machine for WedSync Ops: virtualenv, PostgreSQL (with
# pg_stat_statements preloaded), Redis, database roles, migrations.
# Idempotent; `make run` and `make test` call it. Each step either does its
# work or stops with the exact command a person must run.
set -euo pipefail
cd "$(dirname "$0")/.."
# A checkout's own .env (optional) may name its database and Redis (DB_NAME, DATABASE_URL,
# DATABASE_OWNER_URL, REDIS_URL, REDIS_PORT, WEDSYNC_TEST_DB), so several checkouts share one machine.
if [ -f .env ]; then set -a; . ./.env; set +a; fi

PY=${PYTHON:-python3}
VENV=.venv
PG_SUPERUSER_URL=${PG_SUPERUSER_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
DB_NAME=${DB_NAME:-wedsync}
OWNER_ROLE=${OWNER_ROLE:-wedsync_owner}
APP_ROLE=${APP_ROLE:-wedsync_app}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mprepare: %s\033[0m\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  is_root || die "$1 is not installed. Run: sudo apt-get update && sudo apt-get install -y $*"
  step "installing $* with apt"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- Python -------------------------------------------------------------------
step "python virtualenv ($VENV)"
command -v "$PY" >/dev/null || die "python3 not found. Install Python 3.11+: sudo apt-get install -y python3 python3-venv"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ is required ($("$PY" --version))"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV" || die "could not create a virtualenv. Run: sudo apt-get install -y python3-venv"
fi
REQ_HASH=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$REQ_HASH" ]; then
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  echo "$REQ_HASH" > "$VENV/.requirements.sha256"
fi

# --- PostgreSQL -----------------------------------------------------------------
psql_su() { psql "$PG_SUPERUSER_URL" -X -q -v ON_ERROR_STOP=1 -tA "$@"; }
pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; }
pg_cluster() { ls /etc/postgresql 2>/dev/null | sort -V | tail -1; }

step "PostgreSQL on $PG_HOST:$PG_PORT"
if ! command -v pg_ctlcluster >/dev/null && ! command -v psql >/dev/null; then
  apt_install postgresql postgresql-contrib
fi
if ! pg_up; then
  ver=$(pg_cluster)
  [ -n "$ver" ] || die "no PostgreSQL cluster found. Run: sudo apt-get install -y postgresql"
  if is_root; then
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  else
    die "PostgreSQL is stopped. Run: sudo pg_ctlcluster --skip-systemctl-redirect $ver main start"
  fi
  for _ in $(seq 30); do pg_up && break; sleep 0.5; done
  pg_up || die "PostgreSQL did not start; see /var/log/postgresql/"
fi
psql_su -c 'select 1' >/dev/null || die "cannot connect as the PostgreSQL superuser ($PG_SUPERUSER_URL). Set PG_SUPERUSER_URL to a superuser connection URL."

preload=$(psql_su -c 'show shared_preload_libraries')
if ! grep -q pg_stat_statements <<<"$preload"; then
  step "adding pg_stat_statements to shared_preload_libraries (restarts PostgreSQL)"
  newlibs=$(sed -e 's/^ *//' -e 's/ *$//' <<<"$preload")
  newlibs=${newlibs:+$newlibs,}pg_stat_statements
  psql_su -c "ALTER SYSTEM SET shared_preload_libraries = '$newlibs'"
  ver=$(pg_cluster)
  if is_root && [ -n "$ver" ]; then
    pg_ctlcluster --skip-systemctl-redirect "$ver" main restart
  else
    die "restart PostgreSQL to load pg_stat_statements. Run: sudo pg_ctlcluster --skip-systemctl-redirect ${ver:-15} main restart"
  fi
  for _ in $(seq 30); do pg_up && break; sleep 0.5; done
  pg_up || die "PostgreSQL did not come back after the restart; see /var/log/postgresql/"
fi

step "database roles ($OWNER_ROLE owns, $APP_ROLE connects) and database $DB_NAME"
psql_su <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$OWNER_ROLE') THEN
    CREATE ROLE $OWNER_ROLE LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS PASSWORD '$OWNER_ROLE';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
    CREATE ROLE $APP_ROLE LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '$APP_ROLE';
  END IF;
END \$\$;
ALTER ROLE $APP_ROLE NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
-- The portal reads pg_stat_* of every role (its dbmonitor views); no table data.
GRANT pg_read_all_stats TO $APP_ROLE;
SQL
if [ -z "$(psql_su -c "select 1 from pg_database where datname = '$DB_NAME'")" ]; then
  psql_su -c "CREATE DATABASE $DB_NAME OWNER $OWNER_ROLE"
fi
# In template1 too, so that every test database has it from birth.
for db in template1 "$DB_NAME"; do
  psql "${PG_SUPERUSER_URL%/*}/$db" -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' \
    || die "could not create the pg_stat_statements extension in $db (is postgresql-contrib installed?)"
done
psql "${PG_SUPERUSER_URL%/*}/$DB_NAME" -X -q -v ON_ERROR_STOP=1 -c "ALTER SCHEMA public OWNER TO $OWNER_ROLE" >/dev/null

# --- Redis ----------------------------------------------------------------------
redis_up() { "$VENV/bin/python" - "$REDIS_HOST" "$REDIS_PORT" <<'PYEOF' 2>/dev/null
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)
s.sendall(b"PING\r\n"); sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
PYEOF
}
step "Redis on $REDIS_HOST:$REDIS_PORT"
if ! redis_up; then
  command -v redis-server >/dev/null || apt_install redis-server
  redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no >/dev/null \
    || die "Redis did not start. Run: redis-server --daemonize yes --bind $REDIS_HOST --port $REDIS_PORT --save \"\" --appendonly no"
  for _ in $(seq 20); do redis_up && break; sleep 0.25; done
  redis_up || die "Redis is not answering on $REDIS_HOST:$REDIS_PORT"
fi

# --- Migrations -------------------------------------------------------------------
if [ "${SKIP_MIGRATE:-0}" != 1 ]; then
  step "migrations (as $OWNER_ROLE)"
  WEDSYNC_DB_ROLE=owner "$VENV/bin/python" manage.py migrate --no-input -v 0
fi
step "ready"
