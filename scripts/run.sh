#!/usr/bin/env bash
# make run: starts the store (master + volume server) on a data folder.
set -euo pipefail
bin=$1 data=$2
mkdir -p "$data"
exec "$bin" server -dir="$data"
