#!/usr/bin/env bash
# `make clean-room`: the README's commands on a bare Debian of this machine's release, as a newcomer runs them.
#
#   1. debootstrap --variant=minbase builds a bare Debian (this machine's release, from its Debian mirror),
#      with the package suites a standard install has (release, -updates, -security);
#   2. a clean clone of the committed HEAD goes into it (no .venv, no node_modules, no secrets, no .local);
#   3. in a network namespace of its own (slirp4netns: the package registries answer, and the stack's fixed
#      ports are the namespace's, not this machine's), chrooted, with an empty environment, it runs
#      scripts/install_system_deps.sh (the README's first step on a bare Debian), make up, make demo,
#      make down and make test.
#
# Whatever the clean room finds missing belongs in the project's own install steps, never in this script:
# the only things carried in from this machine are the network's trust settings (the extra CA certificates
# in /usr/local/share/ca-certificates and the variables that point tools at the bundle), as any machine on
# this network needs them. Needs root; installs debootstrap and slirp4netns here if they are missing.
#
#   CLEAN_ROOM_DIR  where to build (default: a new folder under /var/tmp, removed afterwards unless KEEP=1)
#   CLEAN_ROOM_STEPS  the commands, ;-separated (default: the five above)
#
# Takes long (a bare system, every package, then the whole `make test`); it is not part of `make test`.
# The last run's summary is written to .local/clean-room/last-run.txt; its date, duration and result go in
# the README by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

[[ $(id -u) -eq 0 ]] || { echo "clean-room: needs root (debootstrap, chroot, network namespaces)" >&2; exit 2; }
# shellcheck source=/dev/null
. /etc/os-release
[[ ${ID:-} == debian && -n ${VERSION_CODENAME:-} ]] || { echo "clean-room: needs a Debian host (found ${PRETTY_NAME:-?})" >&2; exit 2; }
RELEASE=$VERSION_CODENAME

# This machine's Debian mirror (deb822 or one-line sources), else Debian's redirector.
mirror_of() {
    local suite=$1 files=()
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] && files+=("$f")
    done
    ((${#files[@]})) || return 0
    awk -v suite="$suite" '
        /^URIs:/ {uri=$2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == suite && !found) found=uri}
        /^deb / && $3 == suite && !found {found=$2}
        END {print found}' "${files[@]}"
}
MIRROR=$(mirror_of "$RELEASE")
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=$(mirror_of "$RELEASE-security")
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}

missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v slirp4netns >/dev/null || missing+=(slirp4netns)
command -v git >/dev/null || missing+=(git)
if ((${#missing[@]})); then
    echo "clean-room: installing ${missing[*]} on this machine"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

WORK=${CLEAN_ROOM_DIR:-$(mktemp -d /var/tmp/clean-room.XXXXXX)}
NEWROOT=$WORK/root
REPORT_DIR=$ROOT/.local/clean-room
mkdir -p "$REPORT_DIR"
LOG=$REPORT_DIR/run-$(date -u +%Y%m%dT%H%M%SZ).log
STEPS=${CLEAN_ROOM_STEPS:-"scripts/install_system_deps.sh; make up; make demo; make down; make test"}
started=$(date +%s)
started_at=$(date -u '+%Y-%m-%d %H:%M UTC')
echo "clean-room: $RELEASE from $MIRROR into $NEWROOT; log $LOG"

netns_pid= slirp_pid=
cleanup() {
    local status=$?
    [[ -n $slirp_pid ]] && kill "$slirp_pid" 2>/dev/null
    if [[ -n $netns_pid ]]; then
        # Everything the run started lives in its network namespace: end what is still there.
        local ns pids=() pid
        ns=$(readlink "/proc/$netns_pid/ns/net" 2>/dev/null || true)
        for pid in /proc/[0-9]*; do
            [[ -n $ns && $(readlink "$pid/ns/net" 2>/dev/null) == "$ns" ]] && pids+=("${pid#/proc/}")
        done
        ((${#pids[@]})) && kill -9 "${pids[@]}" 2>/dev/null || true
    fi
    if [[ -z ${KEEP:-} && -z ${CLEAN_ROOM_DIR:-} ]]; then
        rm -rf --one-file-system "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# --- 1. the bare system --------------------------------------------------------------------------------------
t0=$(date +%s)
debootstrap --variant=minbase "$RELEASE" "$NEWROOT" "$MIRROR" >>"$LOG" 2>&1 \
    || { echo "clean-room: debootstrap failed (see $LOG)"; exit 1; }
rm -f "$NEWROOT/etc/apt/sources.list"
cat > "$NEWROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $RELEASE $RELEASE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: $RELEASE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cp /etc/resolv.conf "$NEWROOT/etc/resolv.conf"
# The network's trust settings: update-ca-certificates adds these to the bundle when ca-certificates is installed.
mkdir -p "$NEWROOT/usr/local/share/ca-certificates"
cp -a /usr/local/share/ca-certificates/. "$NEWROOT/usr/local/share/ca-certificates/" 2>/dev/null || true
echo "bare $RELEASE system in $(($(date +%s) - t0))s" | tee -a "$LOG"

# --- 2. a clean clone ----------------------------------------------------------------------------------------
git clone --quiet --no-hardlinks "$ROOT" "$NEWROOT/root/suite"
commit=$(git -C "$NEWROOT/root/suite" log -1 --format='%h %s')
echo "clone of $commit" | tee -a "$LOG"

# --- 3. the newcomer's commands, in a network namespace of its own -------------------------------------------
inner=$WORK/inner.sh
cat > "$inner" <<'INNER'
#!/bin/bash
set -uo pipefail
NEWROOT=$1 STEPS=$2
# Wait for slirp4netns to bring the namespace's link up, then for a name to resolve (a busy machine is slow).
# (The route is read whole: `ip route | grep -q` under pipefail fails whenever grep's early exit cuts ip off.)
has_route() { [[ -n $(ip route show default 2>/dev/null) ]]; }
for _ in $(seq 600); do has_route && break; sleep 0.1; done
has_route || { echo "the network namespace got no link"; exit 1; }
ip link set lo up
mirror_host=$(awk '/^URIs:/ {split($2, u, "/"); print u[3]; exit}' "$NEWROOT/etc/apt/sources.list.d/debian.sources")
for _ in $(seq 60); do getent hosts "$mirror_host" >/dev/null && break; sleep 1; done
mount -t proc proc "$NEWROOT/proc"
mount -t sysfs sys "$NEWROOT/sys"
mount --rbind /dev "$NEWROOT/dev"
mount -t tmpfs -o size=2g shm "$NEWROOT/dev/shm"
env_vars=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb)
bundle=/etc/ssl/certs/ca-certificates.crt
for var in SSL_CERT_FILE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE NODE_EXTRA_CA_CERTS PIP_CERT GIT_SSL_CAINFO; do
    [[ -n ${!var:-} ]] && env_vars+=("$var=$bundle")
done
status=0
IFS=';' read -ra steps <<< "$STEPS"
for step in "${steps[@]}"; do
    step=$(echo "$step" | xargs)
    printf '\n===== %s\n' "$step"
    t0=$(date +%s)
    chroot "$NEWROOT" /usr/bin/env -i "${env_vars[@]}" /bin/bash -c "cd /root/suite && $step" </dev/null
    rc=$?
    printf '===== %s: exit %s after %ss\n' "$step" "$rc" "$(($(date +%s) - t0))"
    echo "$step|$rc|$(($(date +%s) - t0))" >> "$NEWROOT/../steps.txt"
    ((rc)) && status=1
done
exit $status
INNER
chmod +x "$inner"
: > "$WORK/steps.txt"
unshare --net --mount --propagation private "$inner" "$NEWROOT" "$STEPS" >>"$LOG" 2>&1 &
netns_pid=$!
# slirp4netns joins whatever namespace the process is in: wait until unshare has made the new one (seconds,
# on a busy machine).
own_ns=$(readlink /proc/self/ns/net)
for _ in $(seq 1200); do
    ns=$(readlink "/proc/$netns_pid/ns/net" 2>/dev/null) || { echo "clean-room: the namespace's process died"; exit 1; }
    [[ $ns != "$own_ns" ]] && break
    sleep 0.1
done
slirp4netns --configure --mtu=65520 --disable-host-loopback "$netns_pid" tap0 >"$WORK/slirp.log" 2>&1 &
slirp_pid=$!
set +e
wait "$netns_pid"
status=$?
set -e
kill "$slirp_pid" 2>/dev/null || true
if [[ -s $WORK/slirp.log ]] && ((status)); then
    { echo "--- slirp4netns:"; cat "$WORK/slirp.log"; } >>"$LOG"
fi

duration=$(($(date +%s) - started))
result=$([[ $status -eq 0 ]] && echo passed || echo FAILED)
{
    echo "date: $started_at"
    echo "host: $(uname -m), $(nproc) cores; Debian $RELEASE (minbase) from $MIRROR"
    echo "commit: $commit"
    while IFS='|' read -r step rc secs; do
        printf 'step: %-32s exit %s, %ss\n' "$step" "$rc" "$secs"
    done < "$WORK/steps.txt"
    echo "duration: $((duration / 60)) min $((duration % 60)) s"
    echo "result: $result"
} | tee "$REPORT_DIR/last-run.txt"
echo "full log: $LOG"
exit "$status"
