#!/bin/sh
# Fills infra/trigger/.env (from .env.example) with fresh secrets and the URLs that carry them, and writes
# registry/auth.htpasswd. Safe to re-run: a value already set is kept, since rotating it would orphan the
# data of volumes that were initialised with it.
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
env_file="$here/.env"
[ -f "$env_file" ] || cp "$here/.env.example" "$env_file"
chmod 600 "$env_file"

value() { grep -E "^$1=" "$env_file" | head -n1 | cut -d= -f2-; }
put() {
    if grep -qE "^$1=" "$env_file"; then
        tmp=$(mktemp) && awk -v k="$1" -v v="$2" 'BEGIN{FS=OFS="="} $1==k{print k "=" v; next} {print}' "$env_file" >"$tmp" && cat "$tmp" >"$env_file" && rm -f "$tmp"
    else
        printf '%s=%s\n' "$1" "$2" >>"$env_file"
    fi
}
fill() { [ -n "$(value "$1")" ] || put "$1" "$(openssl rand -hex 16)"; }
# A URL whose password is still the <NAME> placeholder gets the generated password.
weave() { case "$(value "$1")" in *"<$2>"*) put "$1" "$(value "$1" | sed "s|<$2>|$(value "$2")|")" ;; esac; }

for name in SESSION_SECRET MAGIC_LINK_SECRET ENCRYPTION_KEY PROVIDER_SECRET COORDINATOR_SECRET \
    MANAGED_WORKER_SECRET POSTGRES_PASSWORD CLICKHOUSE_PASSWORD OBJECT_STORE_SECRET_ACCESS_KEY DOCKER_REGISTRY_PASSWORD; do
    fill "$name"
done
[ -n "$(value MINIO_ROOT_PASSWORD)" ] || put MINIO_ROOT_PASSWORD "$(value OBJECT_STORE_SECRET_ACCESS_KEY)"
for url in DATABASE_URL DIRECT_URL; do weave "$url" POSTGRES_PASSWORD; done
for url in CLICKHOUSE_URL RUN_REPLICATION_CLICKHOUSE_URL; do weave "$url" CLICKHOUSE_PASSWORD; done

mkdir -p "$here/registry"
trap 'rm -f "$here/registry/auth.htpasswd.tmp"' EXIT
user=$(value DOCKER_REGISTRY_USERNAME)
password=$(value DOCKER_REGISTRY_PASSWORD)
if command -v htpasswd >/dev/null 2>&1; then
    htpasswd -Bbn "$user" "$password" >"$here/registry/auth.htpasswd.tmp"
elif python3 -c 'import bcrypt' 2>/dev/null; then
    python3 -c 'import sys, bcrypt; print(f"{sys.argv[1]}:{bcrypt.hashpw(sys.argv[2].encode(), bcrypt.gensalt()).decode()}")' \
        "$user" "$password" >"$here/registry/auth.htpasswd.tmp"
elif command -v docker >/dev/null 2>&1; then
    docker run --rm --entrypoint htpasswd httpd:2.4 -Bbn "$user" "$password" >"$here/registry/auth.htpasswd.tmp"
else
    echo "registry/auth.htpasswd needs htpasswd (apache2-utils), Python's bcrypt or docker" >&2
    exit 1
fi
mv "$here/registry/auth.htpasswd.tmp" "$here/registry/auth.htpasswd"
echo "infra/trigger/.env and registry/auth.htpasswd are ready"
