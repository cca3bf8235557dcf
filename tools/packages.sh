# Sourced by tools/test.sh and engine/test.sh: makes sure the outside tools a test run drives are installed.
#
#   ensure_packages <what needs them> <on-missing: warn|fail> <command-or-path>:<debian package> ...
#
# Installs the missing packages with apt-get when root; otherwise warns (the tests that need a tool then fail
# and name it) or fails at once, naming the apt-get command either way.
ensure_packages() {
  local what=$1 on_missing=$2 spec tool missing=()
  shift 2
  for spec in "$@"; do
    tool=${spec%%:*}
    if [[ $tool == /* ]]; then [ -x "$tool" ] || missing+=("${spec#*:}"); else command -v "$tool" >/dev/null || missing+=("${spec#*:}"); fi
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  local packages
  packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing what $what needs: $packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  elif [ "$on_missing" = fail ]; then
    echo "error: $what needs root and: $packages (apt-get install -y $packages)" >&2
    exit 1
  else
    echo "warning: missing tools for $what ($packages); the tests that need them will fail." >&2
    echo "         install them with: sudo apt-get install -y $packages" >&2
  fi
}
