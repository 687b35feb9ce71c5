#!/usr/bin/env bash
# Installs missing tools (as root, via apt-get) or prints the one command that would.
#
# Usage: common/deps.sh NEED...   where each NEED is  probe=package
#   probe is a command name (gcc), or pc:NAME for a pkg-config module (pc:check),
#   or file:/abs/path for a file that a package provides, or py:MODULE for a Python 3 module.
# Exit 0 when everything is present (possibly after installing), 2 otherwise.
set -u

missing_pkgs=()
missing_what=()
for need in "$@"; do
  probe=${need%%=*}
  pkg=${need#*=}
  case $probe in
    pc:*)   pkg-config --exists "${probe#pc:}" 2>/dev/null && continue ;;
    file:*) [ -e "${probe#file:}" ] && continue ;;
    py:*)   python3 -c "import ${probe#py:}" >/dev/null 2>&1 && continue ;;
    *)      command -v "$probe" >/dev/null 2>&1 && continue ;;
  esac
  case " ${missing_pkgs[*]-} " in *" $pkg "*) ;; *) missing_pkgs+=("$pkg") ;; esac
  missing_what+=("${probe#*:}")
done

[ ${#missing_pkgs[@]} -eq 0 ] && exit 0

echo "ipclab: missing: ${missing_what[*]}" >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ipclab: this is not a Debian/Ubuntu system; install the equivalents of: ${missing_pkgs[*]}" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ipclab: install them with:" >&2
  echo "    sudo apt-get update && sudo apt-get install -y ${missing_pkgs[*]}" >&2
  exit 2
fi

echo "ipclab: installing ${missing_pkgs[*]} with apt-get ..." >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
# The package lists may be absent on a fresh machine, or stale: refresh them once.
if ! { apt-get -o DPkg::Lock::Timeout=300 update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing_pkgs[@]}"; } >"$log" 2>&1 </dev/null; then
  tail -n 20 "$log" >&2
  echo "ipclab: apt-get could not install: ${missing_pkgs[*]} (full log: $log)" >&2
  exit 2
fi
rm -f "$log"
echo "ipclab: installed ${missing_pkgs[*]}" >&2
# Re-run the probes: a package that installed but did not provide the tool is still a failure.
exec "$0" "$@"
