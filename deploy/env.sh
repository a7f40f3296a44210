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
