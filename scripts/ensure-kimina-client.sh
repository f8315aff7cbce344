#!/usr/bin/env bash
# The real kimina-client from PyPI, for the tests of provebench's Kimina-compatible API, in a venv of its
# own: kimina-client's models use typing.TypedDict, which pydantic refuses before Python 3.12, so it
# cannot import in provebench's own (3.11) venv. Its undeclared import (pygments) is added and its
# declared `datasets` left out (only its benchmark helper imports it, lazily): same client code, 10 s
# to install instead of a minute.
set -euo pipefail
VENV=${1:-.venv-kimina}
# CombiBench's evaluation client (tests/combibench_probe.py) runs here too: it needs aiohttp besides these.
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import kimina_client, aiohttp' 2>/dev/null; then exit 0; fi
for py in python3.13 python3.12 /root/.pyenv/versions/3.13*/bin/python3 /root/.pyenv/versions/3.12*/bin/python3; do
  if "$py" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
    "$py" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps kimina-client==0.2.1
    "$VENV/bin/pip" install -q --disable-pip-version-check httpx tenacity pydantic pydantic-settings python-dotenv \
      colorama loguru tabulate tqdm pygments requests aiohttp
    exit 0
  fi
done
echo "ensure-kimina-client: no Python 3.12 or newer here; install one (the Kimina API tests need kimina-client)" >&2
exit 1
