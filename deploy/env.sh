# Shared by backup.sh and restore.sh (sourced): reading the service's environment file.
# shellcheck shell=bash

# KEY=value lines, as systemd reads them: comments and blank lines skipped, one pair of
# surrounding quotes removed, nothing else interpreted (ISSUER_FONTS holds ';').
load_env() {
  local line name value
  [[ -r $1 ]] || die "cannot read $1"
  while IFS= read -r line || [[ -n $line ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    [[ -z $line || $line == \#* || $line == \;* ]] && continue
    line="${line#export }"
    [[ $line == *=* ]] || continue
    name="${line%%=*}"
    value="${line#*=}"
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    if [[ ${#value} -ge 2 && ( ($value == \"*\" && $value == *\") || ($value == \'*\' && $value == *\') ) ]]; then
      value="${value:1:${#value}-2}"
    fi
    export "$name=$value"
  done <"$1"
}

# Where the deployment keeps its database, keys and batches, as issuer/config.py reads them:
# DATABASE_URL, else ISSUER_DATABASE_URL, else the SQLite file issuer.sqlite3 in the instance
# folder. Sets database_url, instance, keys_dir and batch_dir for the script; needs its die.
# shellcheck disable=SC2034
locate_deployment() {
  database_url="${DATABASE_URL:-${ISSUER_DATABASE_URL:-}}"
  instance="${ISSUER_INSTANCE_PATH:-}"
  if [[ -z $database_url ]]; then
    [[ -n $instance ]] || die "set DATABASE_URL, or ISSUER_INSTANCE_PATH for the SQLite database in it"
    database_url="sqlite:///${instance%/}/issuer.sqlite3"
  fi
  keys_dir="${ISSUER_KEYS_DIR:-keys}"
  batch_dir="${ISSUER_BATCH_DIR:-}"
  if [[ -z $batch_dir && -n $instance ]]; then batch_dir="${instance%/}/batches"; fi
}
