#!/usr/bin/env bash
# Run on the host by `python -m sandbox.images build` before `docker build` (which has no network):
# fetches Debian's kubernetes-client .deb (kubectl v1.20.2) with apt into $PREPARED/debs (the user's
# cache, laid over this context at build time; this directory is never written: installed, it is
# in site-packages).
set -euo pipefail
: "${PREPARED:?PREPARED is unset: run python -m sandbox.images build}"
mkdir -p "$PREPARED/debs"
cd "$PREPARED/debs"
if ! ls kubernetes-client_*.deb >/dev/null 2>&1; then
  apt-get download kubernetes-client >/dev/null 2>&1 || {
    apt-get update >/dev/null 2>&1 && apt-get download kubernetes-client >/dev/null
  }
fi
ls kubernetes-client_*.deb >/dev/null
