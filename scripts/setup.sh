#!/usr/bin/env bash
# Sets up everything `make demo` and `make test` need on a fresh Debian machine:
# the system libraries for headless MuJoCo rendering, then .venv with fleetrl and its pinned deps.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES="libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri"

have_render_libs() {
    # MuJoCo renders headless through EGL; Mesa's software driver (llvmpipe) serves it with no GPU.
    ldconfig -p | grep -q 'libEGL.so.1' && ldconfig -p | grep -q 'libEGL_mesa.so.0'
}

if ! have_render_libs; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "==> installing system libraries for headless rendering: $SYSTEM_PACKAGES"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $SYSTEM_PACKAGES
    else
        echo "fleetrl needs system libraries for headless rendering. Run:" >&2
        echo "    sudo apt-get install -y $SYSTEM_PACKAGES" >&2
        exit 1
    fi
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "fleetrl needs Python 3.11; $PYTHON is $("$PYTHON" --version 2>&1). Set PYTHON=/path/to/python3.11" >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $("$PYTHON" --version)"
    "$PYTHON" -m venv .venv
fi
echo "==> installing fleetrl and its pinned dependencies into .venv"
# torch is pinned to the CPU build (torch==2.13.0); an unpinned torch would pull a CUDA build.
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev,bench]'
touch .venv/.installed
