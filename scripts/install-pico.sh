#!/usr/bin/env bash
# Installs SVOX Pico (pico2wave), the offline German voice callers understand best
# (docs/german-voice.md). Pico is in Debian's non-free component (its language data ships
# without source), which Debian does not enable by default: when it is missing, this adds it
# in a sources file of its own (the system's sources files are left as they are).
# Without Pico the voicebot still runs: German falls back to the next offline voice, and
# `voicebot models list` says how to get Pico. `--required`: fail instead of warning (CI).
set -euo pipefail

PACKAGE=libttspico-utils
SOURCES=/etc/apt/sources.list.d/voicebot-non-free.sources
required=0
[ "${1:-}" = --required ] && required=1

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
give_up() {
  printf 'install-pico: %s\n' "$*" >&2
  if ((required)); then exit 1; fi
  printf 'install-pico: German will be spoken by the next offline voice (see `voicebot models list`)\n' >&2
  exit 0
}

[[ "$(dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null)" == *"install ok installed"* ]] && exit 0
[ "$(id -u)" = 0 ] || give_up "SVOX Pico is not installed and this is not root: as root, run $0 (or enable Debian's non-free component and apt-get install $PACKAGE)"
command -v apt-get >/dev/null || give_up "SVOX Pico needs apt-get (Debian or Ubuntu); install pico2wave by other means"

has_candidate() { [[ "$(apt-cache policy "$PACKAGE" 2>/dev/null)" == *"Candidate: "[0-9]* ]]; }
has_candidate || apt-get update -q >/dev/null || true
if ! has_candidate; then
  # shellcheck disable=SC1091
  . /etc/os-release
  [ "${ID:-}" = debian ] && [ -n "${VERSION_CODENAME:-}" ] \
    || give_up "$PACKAGE has no install candidate; on ${PRETTY_NAME:-this system} enable the component that has it (Ubuntu: multiverse)"
  mirror=http://deb.debian.org/debian
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then  # the system's own mirror, if it names one
    mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    mirror=${mirror:-http://deb.debian.org/debian}
  fi
  say "enabling Debian's non-free component in $SOURCES: SVOX Pico ($PACKAGE), the offline German voice, is only in non-free"
  cat >"$SOURCES" <<EOF
# Added by the voicebot set-up (scripts/install-pico.sh): SVOX Pico TTS is in non-free.
Types: deb
URIs: $mirror
Suites: $VERSION_CODENAME $VERSION_CODENAME-updates
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get update -q || { rm -f "$SOURCES"; give_up "apt-get update failed with $SOURCES (removed again)"; }
  has_candidate || give_up "$PACKAGE is still not available after enabling non-free"
fi
say "installing SVOX Pico: $PACKAGE"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$PACKAGE" \
  || give_up "apt-get install $PACKAGE failed"
