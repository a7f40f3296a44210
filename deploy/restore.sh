#!/usr/bin/env bash
# Restore a backup made by backup.sh (docs/DEPLOY.md, "Backups") into an empty deployment:
#
#   1. every member's SHA-256 is checked against MANIFEST.sha256 (and nothing else is in
#      the archive) before anything is written;
#   2. the database is restored into an EMPTY one: for SQLite the file must not exist yet;
#      for PostgreSQL the database must exist (createdb -O <the service's user>) and hold
#      no table; pg_restore runs as the service's user, in one transaction;
#   3. the keys folder, and the batches folder if the backup has one, are restored into
#      folders that are missing or empty.
#
# Nothing is overwritten: a target that is not empty stops the restore before it writes.
# The settings are the service's own, from the environment or --env-file, as backup.sh
# reads them; ISSUER_KEY_PASSPHRASE and ISSUER_DATA_KEY must be the ones of the backed-up
# deployment (they are not in the backup). Stop every issuer process first.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: restore.sh [--env-file FILE] ARCHIVE
  --env-file FILE   read the service's settings from FILE (KEY=value lines, as systemd's EnvironmentFile)
The archive is unpacked and checked in $TMPDIR (/tmp) first: it needs the archive's size there.
EOF
  exit 2
}

say() { printf 'restore: %s\n' "$*" >&2; }
die() { printf 'restore: %s\n' "$*" >&2; exit 1; }

# shellcheck source=SCRIPTDIR/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

archive=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --env-file) [[ $# -ge 2 ]] || usage; load_env "$2"; shift 2 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [[ -z $archive ]] || usage; archive=$1; shift ;;
  esac
done
[[ -n $archive ]] || usage
[[ -f $archive ]] || die "no such file: $archive"

locate_deployment

case $database_url in
  sqlite:///*) kind=sqlite; sqlite_path="${database_url#sqlite:///}"; sqlite_path="${sqlite_path%%\?*}" ;;
  postgresql:*|postgresql+*|postgres:*) kind=postgresql; pg_url="postgresql:${database_url#*:}" ;;
  *) die "cannot restore into this database: ${database_url%%:*} (SQLite or PostgreSQL only)" ;;
esac

empty_folder() { [[ ! -e $1 ]] || { [[ -d $1 ]] && [[ -z "$(ls -A -- "$1")" ]]; }; }

umask 077
work="$(mktemp -d "${TMPDIR:-/tmp}/issuer-restore.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT

# 1. Unpack and check before touching anything.
tar -C "$work" -xf "$archive"
[[ -f $work/MANIFEST.sha256 ]] || die "$archive has no MANIFEST.sha256: not a backup of backup.sh"
(cd "$work" && sha256sum --check --strict --quiet MANIFEST.sha256) || die "$archive: a member does not match MANIFEST.sha256"
listed="$(cut -d' ' -f3- "$work/MANIFEST.sha256" | sort)"
present="$(cd "$work" && find . -type f ! -name MANIFEST.sha256 -printf '%P\n' | sort)"
[[ $listed == "$present" ]] || die "$archive holds files MANIFEST.sha256 does not list"
say "checked $(wc -l <"$work/MANIFEST.sha256") members against MANIFEST.sha256"
backed_up="$(sed -n 's/^database=//p' "$work/INFO")"
revision="$(sed -n 's/^revision=//p' "$work/INFO")"
[[ $backed_up == "$kind" ]] || die "the backup holds a $backed_up database; the settings name a $kind one"
[[ -f $work/keys.tar ]] || die "the backup has no keys.tar"

# 2. The targets must be empty.
empty_folder "$keys_dir" || die "the keys folder $keys_dir (ISSUER_KEYS_DIR) is not empty"
if [[ -f $work/batches.tar ]]; then
  [[ -n $batch_dir ]] || die "the backup holds batches: set ISSUER_BATCH_DIR (or ISSUER_INSTANCE_PATH)"
  empty_folder "$batch_dir" || die "the batches folder $batch_dir (ISSUER_BATCH_DIR) is not empty"
fi
if [[ $kind == sqlite ]]; then
  for f in "$sqlite_path" "$sqlite_path-wal" "$sqlite_path-shm"; do
    [[ ! -e $f ]] || die "$f exists: restore into a database that does not exist yet"
  done
else
  tables="$(psql --no-psqlrc -tA --dbname="$pg_url" -c \
    "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg_toast%'")" || die "cannot reach the database (DATABASE_URL); create it first: createdb -O <user> <name>"
  [[ $tables == 0 ]] || die "the database holds $tables tables or sequences: restore into an empty one (createdb)"
fi

# 3. Restore.
if [[ $kind == sqlite ]]; then
  mkdir -p -- "$(dirname -- "$sqlite_path")"
  cp -- "$work/database.sqlite3" "$sqlite_path.restoring"
  mv -- "$sqlite_path.restoring" "$sqlite_path"
  say "database: SQLite $sqlite_path (revision ${revision:-unknown})"
else
  pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$pg_url" "$work/database.pgdump"
  say "database: PostgreSQL (revision ${revision:-unknown})"
fi
# shellcheck disable=SC2174 # the mode is for the folder itself; its parents are the operator's
mkdir -p -m 0700 -- "$keys_dir"
tar -C "$keys_dir" -xpf "$work/keys.tar"
say "keys: $keys_dir"
if [[ -f $work/batches.tar ]]; then
  # shellcheck disable=SC2174
  mkdir -p -m 0700 -- "$batch_dir"
  tar -C "$batch_dir" -xpf "$work/batches.tar"
  say "batches: $batch_dir"
fi
if [[ $(sed -n 's/^key_backend=//p' "$work/INFO") == pkcs11 ]]; then
  say "the backup was of a pkcs11 deployment: the private keys come back with the token (docs/KEYS.md), not from here"
fi
say "done. Next: issuer db upgrade (if this release is newer than revision ${revision:-unknown}); issuer audit --instance; start the services; with ISSUER_QUEUE=redis, issuer batch resume"
