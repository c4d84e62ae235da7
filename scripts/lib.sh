# Shared by scripts/demo and scripts/test: find Python and Node, make the project's
# virtual environment and install the project (with its Lab extension) into it.
# Sourced, not run. Expects ROOT (the checkout) and VENV to be set.

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
is_root_debian() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

APT_UPDATED=""
apt_install() {
  # apt_install PKG... — install the Debian packages that are missing.
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq || return 1; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python3.10; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

check_node() {
  command -v node >/dev/null 2>&1 || die "Node.js >= 20 is needed to build the Lab extension (node not found)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js >= 20 is needed to build the Lab extension (found $(node --version))"
}

ensure_venv() {
  local python
  python=$(find_python) || die "Python >= 3.10 is needed (set PYTHON=/path/to/python3 to choose one)"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtual environment $VENV with $python"
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      if is_root_debian; then
        local minor
        minor=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        apt_install "python${minor}-venv" || apt_install python3-venv || die "could not install python3-venv"
        "$python" -m venv "$VENV" || die "could not create $VENV"
      else
        die "'$python -m venv' failed: install your distribution's python3-venv package"
      fi
    fi
  fi
  export PATH="$VENV/bin:$PATH"
  export PIP_DISABLE_PIP_VERSION_CHECK=1
}

install_project() {
  # install_project EXTRAS — editable install with the Lab extension built and linked.
  local extras=$1
  check_node
  say "installing build tools and JupyterLab into $VENV"
  python -m pip install -q --upgrade pip || return 1
  python -m pip install -q "jupyterlab>=4.6,<5" "hatchling>=1.21" "hatch-nodejs-version>=0.3.2" \
    "hatch-jupyter-builder>=0.9" editables || return 1
  say "installing Node dependencies (jlpm install --immutable)"
  (cd "$ROOT" && jlpm install --immutable) || return 1
  say "installing jupyter_envmod[$extras] (builds the Lab extension)"
  (cd "$ROOT" && python -m pip install -q --no-build-isolation -e ".[$extras]") || return 1
  (cd "$ROOT" && jupyter labextension develop --overwrite . >/dev/null) || return 1
}
