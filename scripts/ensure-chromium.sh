#!/usr/bin/env bash
# Headless Chromium for the tests that open rendered boards and reports (Debian's
# chromium package; Playwright drives it, so no browser is downloaded). Without
# root or apt the browser tests are skipped, and pytest -ra says why.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: chromium is not installed; the browser tests will be skipped" >&2
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
