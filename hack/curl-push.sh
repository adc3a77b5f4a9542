#!/usr/bin/env bash
# curl-push.sh URL REPO FILE DIGEST: the curl baseline of a push, for
# hack/bench.sh and hack/bench-scale.sh. Opens an upload session, then sends
# the whole file in one PUT with the digest already known (the registry
# verifies it).
set -euo pipefail
loc=$(curl -sSf -X POST -o /dev/null -D - "$1/v2/$2/blobs/uploads/" | tr -d '\r' |
	awk 'tolower($1) == "location:" { print $2 }')
[ -n "$loc" ] || { echo "no Location from POST" >&2; exit 1; }
case $loc in /*) loc=$1$loc ;; esac
case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
curl -sSf -T "$3" -H 'Content-Type: application/octet-stream' -o /dev/null "$loc${sep}digest=$4"
