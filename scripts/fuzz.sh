#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each (default 30s).
set -euo pipefail
time=${1:-30s}
go list -f '{{.ImportPath}} {{.Dir}}' ./... | while read -r pkg dir; do
  for name in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $name ($time)"
    go test -run '^$' -fuzz "^${name}\$" -fuzztime "$time" "$pkg" >/tmp/weed-fuzz.$$.log 2>&1 || { cat /tmp/weed-fuzz.$$.log; exit 1; }
  done
done
echo "fuzz: all targets passed"
