#!/usr/bin/env bash
# Creates (or brings up to date) the venv pygeoapi runs in for `bench/api_bench.py --pygeoapi`:
#
#     bash bench/pygeoapi/setup.sh [VENV]        # default /tmp/lutu-pygeoapi-venv
#
# pygeoapi gets a venv of its own (Debian's /usr/bin/python3.11) so that its pins never meet the
# app's. Its OGR provider needs the GDAL bindings (`osgeo`): PyPI has them only as a source
# package that compiles against libgdal-dev, so this installs Debian's python3-gdal when missing
# and makes the venv with --system-site-packages to see it. Safe to run again.
set -euo pipefail

VENV="${1:-${LUTU_PYGEOAPI_VENV:-/tmp/lutu-pygeoapi-venv}}"
PYTHON=/usr/bin/python3.11
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -x "$PYTHON" ]; then
  echo "setup.sh: $PYTHON is missing (Debian: apt-get install -y python3.11-venv)" >&2
  exit 1
fi

if ! "$PYTHON" -c "from osgeo import ogr" 2>/dev/null; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-gdal python3.11-venv
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv --system-site-packages "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"

"$VENV/bin/python" -c "
import pygeoapi
from osgeo import gdal, ogr
print(f'pygeoapi {pygeoapi.__version__}, GDAL {gdal.__version__} in $VENV')
"
