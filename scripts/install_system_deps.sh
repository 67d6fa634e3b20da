#!/usr/bin/env bash
# Debian packages the tests, the local stack and the benchmarks use. Idempotent: installs only what is missing.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
# automation-service drives the headless-only build; bakery-service's page test the full browser.
[[ -x /usr/lib/chromium/chromium-headless-shell ]] || need+=(chromium-headless-shell)
command -v prometheus >/dev/null || need+=(prometheus)
command -v wrk >/dev/null || need+=(wrk)
command -v npm >/dev/null || need+=(npm)

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
    for unit in redis-server postgresql prometheus; do
        ("${as_root[@]}" service "$unit" stop || true) >/dev/null 2>&1
    done
fi

# kubectl carries Kustomize, which renders the Kubernetes overlays for the static checks. Not every
# package source has it, so its absence is reported (the checks then say what is missing) rather than
# stopping the other installs.
if ! command -v kubectl >/dev/null; then
    as_root=()
    [[ $(id -u) -ne 0 ]] && as_root=(sudo -n)
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends kubectl >/dev/null 2>&1 \
        || echo "kubectl is not available from this machine's package sources: the Kubernetes overlays cannot be rendered" >&2
fi
