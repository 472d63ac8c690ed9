#!/usr/bin/env bash
# make run: starts the store on an embedded default in a data folder.
# Until the servers exist, it shows the version of the built binary.
set -euo pipefail
bin=$1 data=$2
mkdir -p "$data"
if "$bin" help 2>/dev/null | grep -q '^  server '; then
  exec "$bin" server -dir="$data"
fi
exec "$bin" version
