#!/usr/bin/env bash
# Back up one issuer deployment into one timestamped tar (docs/DEPLOY.md, "Backups"):
#
#   database.pgdump     pg_dump -Fc, when the database is PostgreSQL
#   database.sqlite3    sqlite3 .backup (online, consistent), when it is SQLite
#   keys.tar            ISSUER_KEYS_DIR: certificates, and the encrypted private keys of the
#                       file backend (with ISSUER_KEY_BACKEND=pkcs11 the private keys are in
#                       the token: back that up with the HSM's own mechanism, docs/KEYS.md)
#   batches.tar         ISSUER_BATCH_DIR, with --with-batches only
#   INFO                when, from where, which database and schema revision
#   MANIFEST.sha256     the SHA-256 of every other member; restore.sh checks it first
#
# The settings are the service's own (DATABASE_URL or ISSUER_DATABASE_URL,
# ISSUER_INSTANCE_PATH, ISSUER_KEYS_DIR, ISSUER_BATCH_DIR), from the environment or from
# --env-file (the file the systemd units read). The secrets (ISSUER_KEY_PASSPHRASE,
# ISSUER_DATA_KEY, ISSUER_SECRET_KEY) are never written into the backup: keep them apart.
#
# The database is copied first, then the keys, then the batches: the service writes a key
# file (and a batch archive) before the transaction that refers to it commits, so whatever
# the copied database refers to was on disk before the copy of the folders began.
#
# Prints the path of the archive on stdout; what it does goes to stderr.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: backup.sh [--env-file FILE] [--with-batches] [--keep N] DEST_DIR
  --env-file FILE   read the service's settings from FILE (KEY=value lines, as systemd's EnvironmentFile)
  --with-batches    also copy ISSUER_BATCH_DIR (batch archives, uploads waiting to be validated)
  --keep N          then delete all but the N newest issuer-backup-*.tar in DEST_DIR
EOF
  exit 2
}

say() { printf 'backup: %s\n' "$*" >&2; }
die() { printf 'backup: %s\n' "$*" >&2; exit 1; }

# shellcheck source=SCRIPTDIR/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

with_batches=0
keep=0
dest=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --env-file) [[ $# -ge 2 ]] || usage; load_env "$2"; shift 2 ;;
    --with-batches) with_batches=1; shift ;;
    --keep) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage; keep=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [[ -z $dest ]] || usage; dest=$1; shift ;;
  esac
done
[[ -n $dest ]] || usage

locate_deployment

case $database_url in
  sqlite:///*) kind=sqlite; db_member=database.sqlite3
    sqlite_path="${database_url#sqlite:///}"; sqlite_path="${sqlite_path%%\?*}" ;;
  postgresql:*|postgresql+*|postgres:*) kind=postgresql; db_member=database.pgdump
    pg_url="postgresql:${database_url#*:}" ;; # libpq's URI: SQLAlchemy's less the +driver
  *) die "cannot back up this database: ${database_url%%:*} (SQLite or PostgreSQL only)" ;;
esac
[[ -d $keys_dir ]] || die "no keys folder at $keys_dir (ISSUER_KEYS_DIR)"
if [[ $with_batches == 1 ]]; then
  [[ -n $batch_dir ]] || die "--with-batches: set ISSUER_BATCH_DIR (or ISSUER_INSTANCE_PATH)"
  [[ -d $batch_dir ]] || die "--with-batches: no folder at $batch_dir (ISSUER_BATCH_DIR)"
fi

umask 077 # the backup holds personal data (encrypted document numbers, names) and the key files
mkdir -p "$dest"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="issuer-backup-$stamp.tar"
[[ ! -e $dest/$name ]] || die "$dest/$name exists"
work="$(mktemp -d "$dest/.issuer-backup-$stamp.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
[[ $work != *"'"* ]] || die "DEST_DIR must not contain a single quote (sqlite3 .backup)"

# 1. The database.
if [[ $kind == sqlite ]]; then
  [[ -f $sqlite_path ]] || die "no SQLite database at $sqlite_path"
  say "database: SQLite $sqlite_path"
  sqlite3 "$sqlite_path" ".backup '$work/$db_member'"
  check="$(sqlite3 "$work/$db_member" 'PRAGMA integrity_check')"
  [[ $check == ok ]] || die "the copy of the database fails its integrity check: $check"
  revision="$(sqlite3 "$work/$db_member" 'SELECT version_num FROM alembic_version' 2>/dev/null || true)"
else
  say "database: PostgreSQL (pg_dump -Fc)"
  pg_dump --format=custom --file="$work/$db_member" --dbname="$pg_url"
  revision="$(psql --no-psqlrc -tA --dbname="$pg_url" -c 'SELECT version_num FROM alembic_version' 2>/dev/null || true)"
fi

# 2. The keys folder (its contents, modes kept).
say "keys: $keys_dir"
tar -C "$keys_dir" -cf "$work/keys.tar" .
if [[ ${ISSUER_KEY_BACKEND:-file} == pkcs11 ]]; then
  say "ISSUER_KEY_BACKEND=pkcs11: the private keys are in the token, not in this backup; back the token up with the HSM's own mechanism (docs/KEYS.md)"
fi

# 3. The batches, if asked for. Workers may be drawing meanwhile: a file that changes or
# goes while it is copied is a warning (tar's exit 1), not a failed backup.
if [[ $with_batches == 1 ]]; then
  say "batches: $batch_dir"
  status=0
  tar --ignore-failed-read -C "$batch_dir" -cf "$work/batches.tar" . || status=$?
  [[ $status -le 1 ]] || die "cannot copy $batch_dir"
  [[ $status == 0 ]] || say "files of $batch_dir changed while they were copied (a batch being drawn): those may be incomplete"
fi

cat >"$work/INFO" <<EOF
created=$stamp
host=$(uname -n)
database=$kind
revision=${revision:-unknown}
key_backend=${ISSUER_KEY_BACKEND:-file}
batches=$([[ $with_batches == 1 ]] && echo yes || echo no)
EOF

members=(INFO "$db_member" keys.tar)
[[ $with_batches == 1 ]] && members+=(batches.tar)
(cd "$work" && sha256sum -- "${members[@]}" >MANIFEST.sha256)
tar -C "$work" --remove-files -cf "$work/$name.partial" MANIFEST.sha256 "${members[@]}" # no second copy on disk
mv -- "$work/$name.partial" "$dest/$name"
say "wrote $dest/$name ($(du -h "$dest/$name" | cut -f1)), sha256 $(sha256sum "$dest/$name" | cut -d' ' -f1)"

if [[ $keep -gt 0 ]]; then
  mapfile -t old < <(find "$dest" -maxdepth 1 -name 'issuer-backup-*.tar' -printf '%f\n' | sort -r | tail -n +"$((keep + 1))")
  for file in "${old[@]}"; do
    say "removed $dest/$file (--keep $keep)"
    rm -f -- "$dest/$file"
  done
fi
printf '%s\n' "$dest/$name"
