#!/usr/bin/env bash
# Idempotent set-up for 绿图 on Debian: `scripts/setup.sh run` (the app) or `scripts/setup.sh test`
# (the app plus test tools, Debian's chromium and a CJK font). Safe to run again and again: it
# installs only what is missing and reinstalls Python packages only when a requirements file
# changed.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-run}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "setup: need root to run: $*" >&2; exit 1
  fi
}

apt_updated=""
apt_install() {  # Debian packages that are not installed yet
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: please install ${missing[*]} (no apt-get here)" >&2; exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then apt_install python3; fi
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then apt_install python3-venv; fi
[ -x .venv/bin/python ] || "$python" -m venv .venv

requirements=requirements.txt
[ "$purpose" = test ] && requirements=requirements-dev.txt
stamp=".venv/.lutu-$(basename "$requirements" .txt)-$(cat requirements*.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages from $requirements"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
  rm -f .venv/.lutu-"$(basename "$requirements" .txt)"-*
  touch "$stamp"
fi

# Reports: WeasyPrint prints through Debian's pango; a CJK font writes the Chinese (without it
# matplotlib and WeasyPrint print boxes, so reports refuse to run: reports/fonts.py).
apt_install libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-noto-cjk
if [ "$purpose" = test ]; then
  # Browser tests use Debian's chromium (never `playwright install`); report tests read PDFs
  # with poppler (pdftoppm, pdffonts).
  apt_install chromium poppler-utils
  # The PostGIS store's tests start a throwaway cluster of Debian's server (tests/pgcluster.py).
  apt_install postgresql-15 postgresql-15-postgis-3
fi
