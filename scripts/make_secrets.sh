#!/usr/bin/env bash
# Creates the files under secrets/ that docker-compose.yml mounts as secrets, leaving existing ones alone
# (so it is safe to run before every `docker compose up`). Generated values are random; credentials of
# outside APIs start empty, which the services read as "not configured" until a person fills them in.
set -euo pipefail
mkdir -p "$(dirname "$0")/../secrets"
cd "$(dirname "$0")/../secrets"
# Compose bind-mounts these files as they are, and the services run as uid 10001, so the files must be
# world-readable; the folder is closed to other users of the host instead.
chmod 700 .
umask 022

random_value() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

make_random() {
  local name=$1
  [[ -s $name.txt ]] && return 0
  random_value > "$name.txt"
  echo "created secrets/$name.txt"
}

make_empty() {
  local name=$1
  [[ -e $name.txt ]] && return 0
  : > "$name.txt"
  echo "created secrets/$name.txt (empty: fill it in to enable the integration)"
}

make_random jwt_secret
make_random postgres_password
make_random demo_user_password
make_random grafana_admin_password
# Shared with Jira: paste it as the secret of the bakery's Jira webhook; unsigned webhooks are refused.
make_random jira_webhook_secret

# Derived from the Postgres password, so the two always agree; hex values need no URL quoting.
if [[ ! -s database_url.txt ]]; then
  printf 'postgresql+psycopg://suite:%s@postgres:5432/suite' "$(cat postgres_password.txt)" > database_url.txt
  echo "created secrets/database_url.txt"
fi

# LocalStack accepts any key pair; it still lives here so that no key appears in docker-compose.yml.
if [[ ! -s aws_credentials.txt ]]; then
  printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "local$(random_value | cut -c1-12)" "$(random_value)" > aws_credentials.txt
  echo "created secrets/aws_credentials.txt (LocalStack keys)"
fi

make_empty openai_api_key
make_empty jira_api_token
make_empty slack_bot_token
make_empty github_token
make_empty google_service_account_json
make_empty smtp_password
