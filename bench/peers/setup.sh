#!/usr/bin/env bash
# Creates (or brings up to date) the venv that tipg and pygeoapi run in for
# `bench/postgis_bench.py`:
#
#     bash bench/peers/setup.sh [VENV]        # default /tmp/lutu-peers-venv
#
# The peers get a venv of their own (Debian's /usr/bin/python3.11) so that their pins never
# meet the app's requirements. Unlike bench/pygeoapi/setup.sh no GDAL is needed: pygeoapi's
# PostgreSQL provider reads through SQLAlchemy + psycopg2. Safe to run again.
set -euo pipefail

VENV="${1:-${LUTU_PEERS_VENV:-/tmp/lutu-peers-venv}}"
PYTHON=/usr/bin/python3.11
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -x "$PYTHON" ]; then
  echo "setup.sh: $PYTHON is missing (Debian: apt-get install -y python3.11-venv)" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"

"$VENV/bin/python" -c "
import geoalchemy2, psycopg2, pygeoapi, tipg
import pygeoapi.provider.sql  # the PostgreSQL provider's imports
print(f'tipg {tipg.__version__}, pygeoapi {pygeoapi.__version__} in $VENV')
"
