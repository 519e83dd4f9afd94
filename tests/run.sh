#!/usr/bin/env bash
# The whole test suite: installs what the tests need when it is missing, then lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need_apt+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing Debian packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! python3 -c 'import pinbot, httpx, ruamel.yaml, github, tenacity, pytest, hypothesis, ruff, mypy, jwt, cryptography, cmarkgfm, pre_commit' >/dev/null 2>&1 \
    || ! command -v pinbot >/dev/null 2>&1; then
    python3 -m pip install -q -e '.[test]'
fi

echo "== ruff"
python3 -m ruff check pinbot tests
echo "== mypy --strict pinbot"
python3 -m mypy pinbot
echo "== pytest"
python3 -m pytest "$@"
