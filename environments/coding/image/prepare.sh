#!/usr/bin/env bash
# Run on the host by `python -m sandbox.images build` before `docker build` (which has no network):
# fetches the wheels pinned in wheels.txt into $PREPARED/wheels (the user's cache, laid over this
# context at build time; this directory is never written: installed, it is in site-packages).
# Reuses pip's cache, so it is offline once the wheels have been fetched on this machine.
set -euo pipefail
cd "$(dirname "$0")"
: "${PREPARED:?PREPARED is unset: run python -m sandbox.images build}"
PY="${PYTHON:-python3}"
mkdir -p "$PREPARED/wheels"
missing=0
while read -r spec _; do
  [[ -z "$spec" || "$spec" == \#* ]] && continue
  name="${spec%%==*}"; version="${spec##*==}"
  ls "$PREPARED"/wheels/"$(echo "$name" | tr 'A-Z-' 'a-z_')"-"$version"-*.whl >/dev/null 2>&1 || missing=1
done < wheels.txt
if [[ "$missing" == 1 ]]; then
  "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r wheels.txt -d "$PREPARED/wheels"
fi
