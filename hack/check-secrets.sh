#!/usr/bin/env bash
# check-secrets.sh LOG: fail if the test log holds any secret the tests use:
# the registries' passwords, the wrong passwords tests try, an Authorization
# header, or a bearer token (a JWT) from the test token issuer. make test runs
# it on the full verbose log (every test's output, every dxf message the
# tests captured and logged, the registries' log tails on failure).
set -euo pipefail
log=${1:?usage: check-secrets.sh LOG}
secrets=('!WordPass0$' 'redirect-s3cret' 'Wr0ng-Passw0rd!' 'Wr0ngPassw0rd' 'not-the-password' 's3cret-pw' "alice's password" "bob's password" 'matrix-Passw0rd-1' 'matrix-T0ken-2' 'matrix-Authz-3' 'matrix-Config-4' 'matrix-IdT0ken-5' 'matrix-HelperT0ken-6' 'matrix-HelperPw-7' 'matrix-issued-T0ken' 'helper-S3cret-out' 'Sup3rSecret')
found=0
for s in "${secrets[@]}"; do
	if grep -qF -- "$s" "$log"; then
		echo "check-secrets: a password the tests use appears in $log" >&2
		found=1
	fi
done
if grep -qiE 'authorization: *(basic|bearer) [A-Za-z0-9+/=._-]{8,}' "$log"; then
	echo "check-secrets: an Authorization header appears in $log" >&2
	found=1
fi
if grep -qE 'eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\.' "$log"; then
	echo "check-secrets: a bearer token (JWT) appears in $log" >&2
	found=1
fi
[ "$found" = 0 ] && echo "check-secrets: no password, token or Authorization header in $log"
exit "$found"
