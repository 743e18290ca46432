#!/usr/bin/env bash
# Run on the host by `python -m sandbox.images build` before `docker build` (which has no network):
# fetches Debian's kubernetes-client .deb (kubectl v1.20.2) into ./debs (git-ignored) with apt.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p debs
if ! ls debs/kubernetes-client_*.deb >/dev/null 2>&1; then
  (cd debs && apt-get download kubernetes-client >/dev/null 2>&1) || {
    apt-get update >/dev/null 2>&1 && (cd debs && apt-get download kubernetes-client >/dev/null)
  }
fi
ls debs/kubernetes-client_*.deb >/dev/null
