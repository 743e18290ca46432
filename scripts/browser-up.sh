#!/usr/bin/env bash
# Make sure a headless browser is there for the viewer's tests: install Debian's chromium,
# chromium-driver and a font for screenshots when missing and we are root (as docker-up.sh
# does for Docker). Idempotent.
# Nothing downloads a browser build of its own: Selenium drives this system Chromium.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if have chromium && have chromedriver && [ -d /usr/share/fonts/truetype/dejavu ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! have apt-get; then
  echo "browser-up: no Chromium. Install Debian's 'chromium' and 'chromium-driver' (sudo apt-get install chromium chromium-driver)." >&2
  exit 2
fi
echo "browser-up: installing chromium chromium-driver (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null 2>&1 \
  || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null; }
if ! { have chromium && have chromedriver; }; then
  echo "browser-up: chromium or chromedriver still missing after apt-get install" >&2
  exit 2
fi
echo "browser-up: $(chromium --version 2>/dev/null || echo chromium) ready"
