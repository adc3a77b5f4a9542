#!/usr/bin/env bash
# make fuzz: run every fuzz target of pkg/blobstore for FUZZTIME each
# (default 20s; any `go test -fuzztime` value, e.g. 1m or 5000x).
# A failing input is written to pkg/blobstore/testdata/fuzz/<FuzzName>/ by
# `go test`; commit it once fixed, so it stays a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${1:-20s}
PKG=./pkg/blobstore/
targets=$(go test -list '^Fuzz' "$PKG" | grep '^Fuzz' || true)
if [ -z "$targets" ]; then
	echo "fuzz.sh: no fuzz targets found in $PKG" >&2
	exit 1
fi
failed=()
for target in $targets; do
	echo "==> $target ($FUZZTIME)"
	if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$PKG"; then
		failed+=("$target")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz.sh: failing targets: ${failed[*]} (inputs in pkg/blobstore/testdata/fuzz/)" >&2
	exit 1
fi
echo "fuzz.sh: all targets ran $FUZZTIME without failure"
