#!/usr/bin/env bash
# Writes deploy/requirements.lock from pyproject.toml: the exact version of every package
# pinbot needs at run time and to build (setuptools), each with the sha256 of every file PyPI
# has for it, resolved for the Python the Action and the image run. The Action and the
# Dockerfile install only from it, with `pip install --require-hashes`.
#
#   bash deploy/update-lock.sh                 # keep the versions still allowed, add what is new
#   bash deploy/update-lock.sh --upgrade       # newest versions pyproject.toml allows
#   bash deploy/update-lock.sh -P httpx        # upgrade one package
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3.12}
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
"$python" -m venv "$tools"
"$tools/bin/python" -m pip install --quiet pip-tools==7.7.0
CUSTOM_COMPILE_COMMAND="bash deploy/update-lock.sh" "$tools/bin/pip-compile" --quiet \
    --generate-hashes --allow-unsafe --build-deps-for wheel --strip-extras \
    --no-emit-index-url --no-emit-find-links --annotation-style line \
    --output-file deploy/requirements.lock "$@" pyproject.toml
