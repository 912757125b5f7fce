#!/usr/bin/env bash
# Installs what the project's tests and sandbox need, idempotently, into .tools/ (gitignored):
#   .tools/venv     moto server, cargo-lambda, httpbin, awscli, go-task, hadolint
#   .tools/checkov  checkov (separate: its pins clash with moto's)
# and Debian packages (tmux, redis-server, openssl; chromium for the browser tests) when
# missing and we are root.
# Re-running is cheap: a venv is rebuilt only when its requirements file changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools"
py=${PYTHON:-python3}

make_venv() { # name requirements-file
  local dir="$tools/$1" req="$2" stamp
  stamp="$(sha256sum "$req" | cut -c1-16)"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  echo "bootstrap: installing $(basename "$req") into .tools/$1 (first run only; takes a minute or two)" >&2
  rm -rf "$dir"
  "$py" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >&2
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$stamp" > "$dir/.stamp"
}

apt_missing=()
command -v tmux >/dev/null 2>&1 || apt_missing+=(tmux)
command -v redis-server >/dev/null 2>&1 || apt_missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl) # test certificates (Redis TLS)
# the browser tests (sandbox/tests/it/browser.rs): headless Chromium over the DevTools protocol
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium fonts-liberation)
if [ ${#apt_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: apt-get install ${apt_missing[*]}" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}") >/dev/null 2>&1 \
      || echo "bootstrap: warning: could not install ${apt_missing[*]}" >&2
  else
    echo "bootstrap: warning: please install ${apt_missing[*]} (not root, cannot apt-get)" >&2
  fi
fi

case "${1:-all}" in
  venv) make_venv venv "$root/tools/requirements.txt" ;;
  checkov) make_venv checkov "$root/tools/requirements-checkov.txt" ;;
  all) make_venv venv "$root/tools/requirements.txt"; make_venv checkov "$root/tools/requirements-checkov.txt" ;;
  *) echo "usage: scripts/bootstrap.sh [all|venv|checkov]" >&2; exit 3 ;;
esac
