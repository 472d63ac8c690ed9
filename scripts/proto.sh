#!/usr/bin/env bash
# Regenerates the Go code of every .proto file in the tree.
set -euo pipefail
find . -name '*.proto' -not -path './bench/*' | while read -r f; do
  dir=$(dirname "$f")
  (cd "$dir" && protoc --go_out=. --go_opt=paths=source_relative "$(basename "$f")")
  echo "generated $f"
done
