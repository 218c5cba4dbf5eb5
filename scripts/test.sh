#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian machine, then runs pytest.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh tests/store -q  # arguments go to pytest
#
# Installs (only when missing): Debian packages postgresql (a throwaway server is started by
# tests/conftest.py), dovecot-imapd (IMAP tests), chromium (review screen tests); the virtualenv
# .venv with the project and its `test` extra.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DEBIAN_PACKAGES=(postgresql dovecot-imapd chromium)

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "test.sh: need root or sudo to install: $*" >&2
        return 1
    fi
}

installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

install_debian_packages() {
    command -v apt-get >/dev/null 2>&1 || { echo "test.sh: no apt-get; install ${DEBIAN_PACKAGES[*]} yourself" >&2; return 0; }
    local missing=()
    for package in "${DEBIAN_PACKAGES[@]}"; do
        installed "$package" || missing+=("$package")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "test.sh: installing Debian packages: ${missing[*]}"
    # Wait for a dpkg lock held by another install instead of failing at once.
    local wait=(-o DPkg::Lock::Timeout=600)
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -q \
        --no-install-recommends "${missing[@]}"
}

install_python_packages() {
    local python="${PYTHON:-python3}"
    if [[ ! -x .venv/bin/python ]]; then
        echo "test.sh: creating .venv with $($python --version)"
        "$python" -m venv .venv
    fi
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
}

install_debian_packages
install_python_packages
exec .venv/bin/python -m pytest "$@"
