# Shared set-up for scripts/test and scripts/demo (sourced, not run).
#
# Each step checks first and does nothing when its work is already done, so a warm run costs well
# under a second:
#   - .venv (Python >= 3.11) is created when missing or broken;
#   - `pip install -e .[test]` runs only when pyproject.toml changed since the last successful install
#     (a SHA-256 stamp in .venv), so editing code never triggers a reinstall;
#   - system packages (scripts/bootstrap-deps) are installed only when one is missing;
#   - `npm ci` runs only when package-lock.json changed since node_modules was installed.
# Everything happens under a lock so two scripts started at once do not install over each other.
#
# Functions expect to be called from the repository root (the scripts cd there first).

SETUP_VENV=".venv"
SETUP_PY_STAMP="$SETUP_VENV/.invigil-install.sha256"
SETUP_NPM_STAMP="node_modules/.invigil-lock.sha256"

setup_log() { printf '[setup] %s\n' "$*" >&2; }

setup_die() {
    printf '[setup] ERROR: %s\n' "$*" >&2
    exit 1
}

setup_now() { date +%s.%N; }

setup_elapsed() { awk -v a="$1" -v b="$(setup_now)" 'BEGIN { printf "%.2f", b - a }'; }

# A python3 that is at least 3.11 (pyproject's requires-python), preferring the newest.
setup_find_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

setup_venv() {
    if [[ -x "$SETUP_VENV/bin/python" ]] && "$SETUP_VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        return 0
    fi
    local python
    python="$(setup_find_python)" || setup_die "Python 3.11 or newer is needed (python3.11+ not found on PATH)"
    setup_log "creating $SETUP_VENV with $python"
    rm -rf "$SETUP_VENV"
    "$python" -m venv "$SETUP_VENV" || setup_die "could not create $SETUP_VENV (on Debian: apt-get install python3-venv)"
}

setup_python_deps() {
    local wanted
    wanted="$(cat pyproject.toml "$SETUP_VENV/pyvenv.cfg" | sha256sum | cut -d' ' -f1)"
    if [[ -f "$SETUP_PY_STAMP" && "$(cat "$SETUP_PY_STAMP")" == "$wanted" ]]; then
        return 0
    fi
    setup_log "installing Python packages (pip install -e .[test]): pyproject.toml changed or first run"
    local log="$SETUP_VENV/pip-install.log"
    if ! "$SETUP_VENV/bin/python" -m pip install --disable-pip-version-check -e ".[test]" >"$log" 2>&1; then
        grep -v '^WARNING: Location' "$log" | tail -n 30 >&2
        setup_die "pip install -e .[test] failed (full output in $log)"
    fi
    printf '%s\n' "$wanted" >"$SETUP_PY_STAMP"
}

setup_system_deps() {
    bash scripts/bootstrap-deps
}

setup_npm_deps() {
    [[ -f package.json ]] || return 0
    [[ -f package-lock.json ]] || setup_die "package.json without package-lock.json: run 'npm install' and commit the lockfile"
    local wanted
    wanted="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
    if [[ -f "$SETUP_NPM_STAMP" && "$(cat "$SETUP_NPM_STAMP")" == "$wanted" ]]; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 || setup_die "npm not found (scripts/bootstrap-deps installs it on Debian)"
    setup_log "installing npm packages (npm ci): package-lock.json changed or first run"
    npm ci --no-audit --no-fund --loglevel=error >&2 || setup_die "npm ci failed (see above)"
    printf '%s\n' "$wanted" >"$SETUP_NPM_STAMP"
}

# All steps, under an exclusive lock, with the time taken reported on one line.
setup_all() {
    local start
    start="$(setup_now)"
    if command -v flock >/dev/null 2>&1; then
        # Outside the tree (nothing to ignore) and outside .venv (which may be recreated).
        exec 9>"${TMPDIR:-/tmp}/invigil-setup-$(pwd | sha256sum | cut -c1-16).lock"
        flock 9
    fi
    setup_system_deps
    setup_venv
    setup_python_deps
    setup_npm_deps
    if command -v flock >/dev/null 2>&1; then
        flock -u 9
        exec 9>&-
    fi
    setup_log "ready in $(setup_elapsed "$start") s"
}
