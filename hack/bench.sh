#!/usr/bin/env bash
# make bench: time whole dxf commands against curl, coreutils and dxf's peers
# (oras, crane) on a fresh local Distribution registry, run the Go
# benchmarks of pkg/blobstore, and write docs/benchmarks.md and
# docs/benchmarks.svg.
#
# Each scenario runs every tool RUNS times, the tools taking turns (the order
# rotates from run to run) so that background load hits them alike; tables
# show medians. Peak RSS comes from /usr/bin/time -v. Every upload of a
# "first push" gets new content (a unique 16-byte stamp overwrites the start
# of the file, so sizes are identical) and is removed from the registry's
# storage afterwards, so no tool can skip it and the disk does not fill up.
#
# Knobs (environment):
#   RUNS=5               runs per tool and scenario
#   BENCH_SIZE_MB=1024   size of the big blob (push, re-push, pull)
#   BENCH_ALIAS_FILES=64 BENCH_ALIAS_MB=4   files of the alias scenario
#   BENCH_TAGS=10000     tags of the list-aliases scenario
#   BENCH_GO=1           0 skips the Go benchmarks
#   BENCH_COPY=registry,mount   copy scenarios run at the end by
#                        hack/bench-copy.sh (docs/benchmarks-copy.md); none skips
#   BENCH_OUT=docs       where benchmarks.md and benchmarks.svg go
#   DXF=bin/dxf          the dxf binary to measure
#   BENCH_TOOLS_DIR      where oras and crane are installed
#                        (default ${XDG_CACHE_HOME:-~/.cache}/dxf-go/tools)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
root=$PWD

RUNS=${RUNS:-5}
BENCH_SIZE_MB=${BENCH_SIZE_MB:-1024}
BENCH_ALIAS_FILES=${BENCH_ALIAS_FILES:-64}
BENCH_ALIAS_MB=${BENCH_ALIAS_MB:-4}
BENCH_TAGS=${BENCH_TAGS:-10000}
BENCH_GO=${BENCH_GO:-1}
BENCH_OUT=${BENCH_OUT:-$root/docs}
DXF=${DXF:-$root/bin/dxf}
BENCH_TOOLS_DIR=${BENCH_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dxf-go/tools}
# shellcheck source=hack/bench-tools.sh
. "$root/hack/bench-tools.sh" # install_tool and the pinned versions of the peers


# Targets of the performance issue: ratios to the scenario's baseline.
TARGET_PUSH=1.10
TARGET_REPUSH=0.25
TARGET_PULL=1.15
TARGET_ALIAS_PUSH=1.00
TARGET_ALIAS_PULL=1.00
TARGET_LIST=1.00
TARGET_RSS_MIB=64
# Figures reported for the Python dxf tool (not measured here).
PYTHON_PUSH=1.44
PYTHON_PULL=4.05

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}
is_uint() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
for v in RUNS BENCH_SIZE_MB BENCH_ALIAS_FILES BENCH_ALIAS_MB BENCH_TAGS; do
	is_uint "${!v}" || die "$v must be a positive integer, not '${!v}'"
done
[ "$BENCH_ALIAS_FILES" -le 999 ] || die "BENCH_ALIAS_FILES must be at most 999"
[ "$BENCH_TAGS" -le 99999 ] || die "BENCH_TAGS must be at most 99999"
[ -x "$DXF" ] || die "$DXF not found: run 'make build' first (or 'make bench', which does)"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is needed for peak RSS"
for c in curl sha256sum awk dd head go; do
	command -v "$c" >/dev/null || die "$c is needed"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/dxf-bench.XXXXXX")
reg_pid=
cleanup() {
	local rc=$?
	if [ -n "$reg_pid" ]; then
		kill "$reg_pid" 2>/dev/null || true
		wait "$reg_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
	[ $rc -eq 0 ] || log "exit status $rc; temporary data removed"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "RUNS=$RUNS BENCH_SIZE_MB=$BENCH_SIZE_MB alias ${BENCH_ALIAS_FILES}x${BENCH_ALIAS_MB} MiB, $BENCH_TAGS tags; scratch data in $work"

# --- tools ------------------------------------------------------------------

oras=$(install_tool oras "$ORAS_MODULE" "$ORAS_VERSION")
crane=$(install_tool crane "$CRANE_MODULE" "$CRANE_VERSION")

log "building hack/localregistry, hack/benchchart and gosha256"
go build -o "$work/localregistry" ./hack/localregistry
go build -o "$work/benchchart" ./hack/benchchart
go build -o "$work/gosha256" ./hack/benchchart/gosha256
gosha=$work/gosha256

# A verified download the Unix way.
cat >"$work/curl-sha256sum" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
curl -sSf "$1" | sha256sum
EOF
chmod +x "$work/curl-sha256sum"

# --- registry ----------------------------------------------------------------

log "starting a local Distribution registry $REGISTRY_VERSION (plain HTTP)"
mkdir -p "$work/reg"
TMPDIR=$work/reg "$work/localregistry" -env "$work/env" >"$work/localregistry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 1 1200); do
	[ -s "$work/env" ] && break
	kill -0 "$reg_pid" 2>/dev/null || { cat "$work/localregistry.log" >&2; die "the registry did not start"; }
	sleep 0.5
done
[ -s "$work/env" ] || { cat "$work/localregistry.log" >&2; die "the registry did not start in 10 minutes"; }
# shellcheck disable=SC1091
. "$work/env"
host=$DXF_HOST
url=http://$host
regdir=$(echo "$work"/reg/registrytest-*)
[ -d "$regdir/storage" ] || die "registry storage not found under $work/reg"
storage=$regdir/storage/docker/registry/v2
reglog=$regdir/registry.log
log "registry at $url"

# Every dxf run: no progress bars, and a digest cache of our own (a fresh
# one, so no entry of an earlier run can help).
dxf=(env "XDG_CACHE_HOME=$work/xdg" DXF_PROGRESS=0 "$DXF")

# --- helpers -------------------------------------------------------------------

results=$work/results.tsv # scenario, tool, run, seconds, peak RSS KiB
uploads=$work/uploads.tsv # scenario, tool, run, upload requests seen by the registry
: >"$results"
: >"$uploads"

# timed SCENARIO TOOL RUN OUT CMD...: run CMD once with standard output to
# OUT, record its wall-clock time and peak RSS; a failure ends the benchmark.
timed() {
	local scen=$1 tool=$2 run=$3 out=$4 t0 t1 rc=0 rss secs
	shift 4
	# Write back whatever the previous command left dirty in the page cache
	# (untimed), so no tool pays for another's output files.
	sync
	t0=$EPOCHREALTIME
	/usr/bin/time -v -o "$work/time.txt" "$@" >"$out" 2>"$work/cmd.err" || rc=$?
	t1=$EPOCHREALTIME
	if [ $rc -ne 0 ]; then
		log "$tool failed (exit status $rc) in $scen, run $run: $*"
		tail -n 20 "$work/cmd.err" | sed 's/^/    /' >&2
		die "$scen: $tool"
	fi
	rss=$(awk -F': *' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	printf '%s\t%s\t%s\t%s\t%s\n' "$scen" "$tool" "$run" "$secs" "$rss" >>"$results"
	log "$(printf '  %-12s run %d  %-34s %8.3f s  %6.1f MiB' "$scen" "$run" "$tool" "$secs" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')")"
}

# fresh_pages BYTES: writes and deletes three times BYTES of scratch data
# (untimed), so that the next command to write a file of BYTES writes into
# page cache just freed. On a virtual machine, memory the guest has not used
# before can cost up to twice the time to write into; without this, whichever
# tool writes first after a command that freed nothing pays for it (in the
# runs before this was added, dxf writing 1 GiB into a file took 2.0-2.6 s
# where curl, always right after it, took 0.9-1.3 s; the same binaries side
# by side on a settled machine took 1.0-1.2 s each).
fresh_pages() {
	head -c $((3 * $1)) /dev/zero >"$work/scratch"
	rm -f "$work/scratch"
	sync
}

# upload_requests: how many upload requests (POST, PATCH, PUT under
# /blobs/uploads/) the registry has logged so far.
upload_requests() { grep -cE '"(POST|PATCH|PUT) /v2/[^ ]*/blobs/uploads/' "$reglog" || true; }

# settled_upload_requests: upload_requests once the count has stopped moving.
# The registry logs a request when its handler returns, so the PATCH of an
# upload that the previous command cancelled (dxf's speculative push) can be
# logged after that command exited; without waiting, it would be counted
# against the next one.
settled_upload_requests() {
	local prev cur i
	prev=$(upload_requests)
	for i in 1 2 3 4 5 6 7 8 9 10; do
		sleep 0.3
		cur=$(upload_requests)
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
	echo "$prev"
}

nonce=$(((RANDOM << 15) | RANDOM))
stamps=0
# stamp FILE...: overwrite the first 16 bytes of each file with a value never
# used before, making it a new blob of the same size.
stamp() {
	local f
	for f; do
		stamps=$((stamps + 1))
		printf '%08x%08d' "$nonce" "$stamps" | dd of="$f" bs=16 count=1 conv=notrunc status=none
	done
}

digest_of() { "$gosha" "$1" | awk '{ print "sha256:" $1 }'; }

# check_blob REPO DIGEST SIZE: the registry has the blob, of that size.
check_blob() {
	local n
	n=$(curl -sSfI "$url/v2/$1/blobs/$2" | tr -d '\r' | awk 'tolower($1) == "content-length:" { print $2 }') ||
		die "the registry does not have $1@$2"
	[ "$n" = "$3" ] || die "$1@$2 has $n bytes in the registry, expected $3"
}

# purge_blob REPO DIGEST: remove a blob from the registry's storage (it is
# ours, and idle), so that 1 GiB uploads do not pile up on the disk.
purge_blob() {
	local hex=${2#sha256:}
	rm -rf "$storage/blobs/sha256/${hex:0:2}/$hex" "$storage/repositories/$1/_layers/sha256/$hex"
}

# rotate N WORD...: the words, starting with the (N mod count)th.
rotate() {
	local n=$1 i
	shift
	local a=("$@")
	for ((i = 0; i < ${#a[@]}; i++)); do
		printf '%s\n' "${a[(i + n) % ${#a[@]}]}"
	done
}

# --- test data -----------------------------------------------------------------

size=$((BENCH_SIZE_MB << 20))
big=$work/big.bin
log "creating ${BENCH_SIZE_MB} MiB of random data"
head -c "$size" /dev/urandom >"$big"
mkdir -p "$work/alias"
afiles=()
for ((i = 1; i <= BENCH_ALIAS_FILES; i++)); do
	f=$(printf 'f%03d.bin' "$i")
	head -c $((BENCH_ALIAS_MB << 20)) /dev/urandom >"$work/alias/$f"
	afiles+=("$f")
done
asize=$((BENCH_ALIAS_FILES * (BENCH_ALIAS_MB << 20)))

# --- 1. first push -----------------------------------------------------------

push_run() { # TOOL RUN
	local d got
	stamp "$big"
	d=$(digest_of "$big")
	case $1 in
	curl) timed push curl "$2" /dev/null "$root/hack/curl-push.sh" "$url" bench/push "$big" "$d" ;;
	dxf)
		timed push dxf "$2" "$work/out" "${dxf[@]}" push-blob --no-digest-cache bench/push "$big"
		got=$(cat "$work/out")
		[ "$got" = "$d" ] || die "dxf push-blob printed '$got', expected $d"
		;;
	oras) timed push oras "$2" "$work/out" "$oras" blob push --plain-http "$host/bench/push" "$big" ;;
	esac
	check_blob bench/push "$d" "$size"
	purge_blob bench/push "$d"
}
log "1/6 first push of ${BENCH_SIZE_MB} MiB, a new blob every time: curl (digest known), dxf (--no-digest-cache), oras blob push"
for ((r = 1; r <= RUNS; r++)); do
	for t in $(rotate "$r" curl dxf oras); do push_run "$t" "$r"; done
done

# --- 2. re-push ------------------------------------------------------------------

log "2/6 re-push of the unchanged ${BENCH_SIZE_MB} MiB file (the registry has it)"
stamp "$big"
main_digest=$(digest_of "$big")
# Seeds the registry and dxf's digest cache; not timed.
got=$("${dxf[@]}" push-blob bench/push "$big") || die "dxf push-blob (seeding the re-push)"
[ "$got" = "$main_digest" ] || die "dxf push-blob printed '$got', expected $main_digest"
check_blob bench/push "$main_digest" "$size"
repush_run() { # TOOL RUN
	local before after
	before=$(settled_upload_requests)
	case $1 in
	dxf-cache) timed repush dxf-cache "$2" "$work/out" "${dxf[@]}" push-blob bench/push "$big" ;;
	dxf-nocache) timed repush dxf-nocache "$2" "$work/out" "${dxf[@]}" push-blob --no-digest-cache bench/push "$big" ;;
	oras) timed repush oras "$2" "$work/out" "$oras" blob push --plain-http "$host/bench/push" "$big" ;;
	esac
	after=$(settled_upload_requests)
	printf 'repush\t%s\t%s\t%s\n' "$1" "$2" $((after - before)) >>"$uploads"
	if [ "$1" != oras ]; then
		got=$(cat "$work/out")
		[ "$got" = "$main_digest" ] || die "dxf push-blob printed '$got', expected $main_digest"
	fi
}
for ((r = 1; r <= RUNS; r++)); do
	for t in $(rotate "$r" dxf-cache dxf-nocache oras); do repush_run "$t" "$r"; done
done

# --- 3. verified pull --------------------------------------------------------------

log "3/6 pull of the ${BENCH_SIZE_MB} MiB blob"
blob_url=$url/v2/bench/push/blobs/$main_digest
want_sum="${main_digest#sha256:}  -"
pull_run() { # TOOL RUN
	case $1 in
	curl) timed pull curl "$2" /dev/null curl -sSf -o /dev/null "$blob_url" ;;
	curl-file)
		fresh_pages "$size"
		timed pull curl-file "$2" /dev/null curl -sSf -o "$work/pulled.bin" "$blob_url"
		[ "$(stat -c %s "$work/pulled.bin")" = "$size" ] || die "curl wrote $(stat -c %s "$work/pulled.bin") bytes, expected $size"
		rm -f "$work/pulled.bin"
		;;
	sha256sum)
		timed pull sha256sum "$2" "$work/out" sha256sum "$big"
		[ "$(cut -d' ' -f1 "$work/out")" = "${main_digest#sha256:}" ] || die "sha256sum disagrees"
		;;
	gosha256) timed pull gosha256 "$2" /dev/null "$gosha" "$big" ;;
	curl-sha256sum)
		timed pull curl-sha256sum "$2" "$work/out" "$work/curl-sha256sum" "$blob_url"
		[ "$(cat "$work/out")" = "$want_sum" ] || die "curl | sha256sum: wrong digest $(cat "$work/out")"
		;;
	crane) timed pull crane "$2" /dev/null "$crane" blob --insecure "$host/bench/push@$main_digest" ;;
	oras) timed pull oras "$2" /dev/null "$oras" blob fetch --plain-http --output - "$host/bench/push@$main_digest" ;;
	dxf) timed pull dxf "$2" /dev/null "${dxf[@]}" pull-blob bench/push "$main_digest" ;;
	dxf-file)
		fresh_pages "$size"
		timed pull dxf-file "$2" "$work/pulled.bin" "${dxf[@]}" pull-blob bench/push "$main_digest"
		[ "$(stat -c %s "$work/pulled.bin")" = "$size" ] || die "dxf pull-blob wrote $(stat -c %s "$work/pulled.bin") bytes, expected $size"
		rm -f "$work/pulled.bin"
		;;
	esac
}
for ((r = 1; r <= RUNS; r++)); do
	for t in $(rotate "$r" curl sha256sum gosha256 curl-sha256sum crane oras dxf dxf-file curl-file); do pull_run "$t" "$r"; done
done

# --- 4. alias of many files ---------------------------------------------------------

log "4/6 alias of $BENCH_ALIAS_FILES files of $BENCH_ALIAS_MB MiB: dxf push-blob ... @alias vs oras push, then pulls"
cd "$work/alias"
alias_push_run() { # TOOL RUN
	stamp "${afiles[@]}"
	case $1 in
	dxf)
		timed alias-push dxf "$2" "$work/out" "${dxf[@]}" push-blob bench/alias "${afiles[@]}" "@dxf-$2"
		[ "$(wc -l <"$work/out")" -eq "$BENCH_ALIAS_FILES" ] || die "dxf push-blob printed $(wc -l <"$work/out") digests"
		;;
	oras)
		timed alias-push oras "$2" "$work/out" "$oras" push --plain-http "$host/bench/alias:oras-$2" "${afiles[@]}"
		curl -sSfI -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$url/v2/bench/alias/manifests/oras-$2" ||
			die "oras push left no manifest oras-$2"
		;;
	esac
}
for ((r = 1; r <= RUNS; r++)); do
	for t in $(rotate "$r" oras dxf); do alias_push_run "$t" "$r"; done
done
cd "$root"
alias_pull_run() { # TOOL RUN
	local n
	case $1 in
	dxf)
		fresh_pages "$asize"
		timed alias-pull dxf "$2" "$work/alias.out" "${dxf[@]}" pull-blob bench/alias "@dxf-$RUNS"
		n=$(stat -c %s "$work/alias.out")
		rm -f "$work/alias.out"
		;;
	oras)
		rm -rf "$work/oras.out"
		fresh_pages "$asize"
		timed alias-pull oras "$2" "$work/out" "$oras" pull --plain-http -o "$work/oras.out" "$host/bench/alias:oras-$RUNS"
		n=$(cat "$work/oras.out"/* | wc -c)
		rm -rf "$work/oras.out"
		;;
	esac
	[ "$n" -eq "$asize" ] || die "$1 pulled $n bytes of the alias, expected $asize"
}
for ((r = 1; r <= RUNS; r++)); do
	for t in $(rotate "$r" oras dxf); do alias_pull_run "$t" "$r"; done
done

# --- 5. many tags -------------------------------------------------------------------

log "5/6 list-aliases of a repository with $BENCH_TAGS tags (creating them, not timed)"
printf 'tags\n' >"$work/small.txt"
"${dxf[@]}" push-blob bench/tags "$work/small.txt" @t00000 >/dev/null || die "dxf push-blob bench/tags"
accept='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
mtype=$(curl -sSfI -H "Accept: $accept" "$url/v2/bench/tags/manifests/t00000" | tr -d '\r' |
	awk 'tolower($1) == "content-type:" { print $2 }')
curl -sSf -H "Accept: $mtype" -o "$work/manifest.json" "$url/v2/bench/tags/manifests/t00000"
for ((i = 1; i < BENCH_TAGS; i++)); do
	printf 'url = "%s/v2/bench/tags/manifests/t%05d"\nupload-file = "%s"\n' "$url" "$i" "$work/manifest.json"
done >"$work/tags.curlrc"
if [ "$BENCH_TAGS" -gt 1 ]; then
	curl -sSf --no-progress-meter --parallel --parallel-max 16 -H "Content-Type: $mtype" -o /dev/null \
		-K "$work/tags.curlrc" 2>"$work/tags.err" || { head -n 5 "$work/tags.err" >&2; die "creating tags"; }
fi
list_run() { # TOOL RUN
	case $1 in
	dxf) timed list dxf "$2" "$work/out" "${dxf[@]}" list-aliases bench/tags ;;
	crane) timed list crane "$2" "$work/out" "$crane" ls --insecure "$host/bench/tags" ;;
	oras) timed list oras "$2" "$work/out" "$oras" repo tags --plain-http "$host/bench/tags" ;;
	esac
	[ "$(wc -l <"$work/out")" -eq "$BENCH_TAGS" ] || die "$1 listed $(wc -l <"$work/out") tags, expected $BENCH_TAGS"
}
for ((r = 1; r <= RUNS; r++)); do
	for t in $(rotate "$r" crane dxf oras); do list_run "$t" "$r"; done
done

log "stopping the registry"
kill "$reg_pid" 2>/dev/null || true
wait "$reg_pid" 2>/dev/null || true
reg_pid=

# --- 6. Go benchmarks ---------------------------------------------------------------

gobench=$work/gobench.txt
if [ "$BENCH_GO" = 1 ]; then
	log "6/6 go test -run '^\$' -bench . -benchmem ./pkg/blobstore/ (starts its own registry)"
	if ! go test -run '^$' -bench . -benchmem ./pkg/blobstore/ >"$work/gobench.raw" 2>&1; then
		tail -n 30 "$work/gobench.raw" >&2
		die "go test -bench ./pkg/blobstore/"
	fi
	# Benchmark lines and the header only: no paths of this machine.
	grep -E '^(goos|goarch|pkg|cpu|Benchmark|PASS|ok)' "$work/gobench.raw" >"$gobench" || true
	cat "$gobench" >&2
else
	log "6/6 Go benchmarks skipped (BENCH_GO=$BENCH_GO)"
	echo "(skipped: BENCH_GO=$BENCH_GO)" >"$gobench"
fi

# --- report ---------------------------------------------------------------------

log "writing $BENCH_OUT/benchmarks.md and benchmarks.svg"

# med SCENARIO TOOL: median seconds.
med() {
	awk -F'\t' -v s="$1" -v t="$2" '$1 == s && $2 == t { print $4 }' "$results" | sort -g |
		awk '{ a[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) printf "%.3f\n", a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# rss SCENARIO TOOL: largest peak RSS in MiB.
rss() {
	awk -F'\t' -v s="$1" -v t="$2" '$1 == s && $2 == t && $5 > m { m = $5 } END { printf "%.1f\n", m / 1024 }' "$results"
}
# calc EXPR: awk arithmetic.
calc() { awk "BEGIN { print $1 }"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mibps() { awk -v n="$1" -v s="$2" 'BEGIN { if (n == "" || s <= 0) print "—"; else printf "%.0f", n / 1048576 / s }'; }
# verdict RATIO TARGET
verdict() {
	awk -v r="$1" -v t="$2" 'BEGIN { if (r <= t) print "**met**"; else printf "**not met** (%+.0f%% over)\n", (r / t - 1) * 100 }'
}
maxf() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
uploads_of() { # TOOL: upload requests over all re-push runs of TOOL
	awk -F'\t' -v t="$1" '$2 == t { n += $4 } END { print n + 0 }' "$uploads"
}

declare -A label=(
	[push/curl]="curl: POST + monolithic PUT, digest known"
	[push/dxf]="dxf push-blob --no-digest-cache"
	[push/oras]="oras blob push"
	[repush/dxf-cache]="dxf push-blob (digest cache: HEAD only)"
	[repush/dxf-nocache]="dxf push-blob --no-digest-cache"
	[repush/oras]="oras blob push (hash, then HEAD)"
	[pull/curl]="curl -o /dev/null (not verified)"
	[pull/sha256sum]="sha256sum of the local file"
	[pull/gosha256]="Go crypto/sha256 of the local file"
	[pull/curl-sha256sum]="curl | sha256sum"
	[pull/crane]="crane blob > /dev/null"
	[pull/oras]="oras blob fetch --output - > /dev/null"
	[pull/dxf]="dxf pull-blob > /dev/null"
	[pull/dxf-file]="dxf pull-blob > file"
	[pull/curl-file]="curl -o file (not verified)"
	[alias-push/oras]="oras push (${BENCH_ALIAS_FILES} files)"
	[alias-push/dxf]="dxf push-blob (${BENCH_ALIAS_FILES} files) @alias"
	[alias-pull/oras]="oras pull -o dir"
	[alias-pull/dxf]="dxf pull-blob @alias > file"
	[list/crane]="crane ls"
	[list/oras]="oras repo tags"
	[list/dxf]="dxf list-aliases"
)
declare -A scen_name=([push]="first push" [repush]="re-push" [pull]="pull" [alias-push]="alias push"
	[alias-pull]="alias pull" [list]="list")
declare -A short=(
	[push/curl]="curl (digest known)" [push/dxf]="dxf push-blob" [push/oras]="oras blob push"
	[repush/dxf-cache]="dxf, digest cache" [repush/dxf-nocache]="dxf, no digest cache" [repush/oras]="oras blob push"
	[pull/curl]="curl (unverified)" [pull/sha256sum]="sha256sum (local)" [pull/gosha256]="Go sha256 (local)"
	[pull/curl-sha256sum]="curl | sha256sum" [pull/crane]="crane blob" [pull/oras]="oras blob fetch"
	[pull/dxf]="dxf pull-blob > /dev/null" [pull/dxf-file]="dxf pull-blob > file" [pull/curl-file]="curl -o file"
	[alias-push/oras]="oras push" [alias-push/dxf]="dxf push-blob @alias"
	[alias-pull/oras]="oras pull" [alias-pull/dxf]="dxf pull-blob @alias"
	[list/crane]="crane ls" [list/oras]="oras repo tags" [list/dxf]="dxf list-aliases"
)

chart=$work/chart.tsv
: >"$chart"
# chart_bar PANEL SCEN TOOL ROLE BASE [TARGET_RATIO]
chart_bar() {
	local m t=""
	m=$(med "$2" "$3")
	[ -z "${6:-}" ] || t=$(calc "$6 * $5")
	printf '%s\t%s\t%s\t%s\t%s×\t%s\n' "$1" "${short[$2/$3]}" "$m" "$4" "$(ratio "$m" "$5")" "$t" >>"$chart"
}

# table_row SCEN TOOL BASE BYTES TARGET_RATIO ROLE_NOTE: one markdown row.
table_row() {
	local m r tgt="—" met="—"
	m=$(med "$1" "$2")
	r=$(ratio "$m" "$3")
	if [ -n "$5" ]; then
		tgt="≤ $5×"
		met=$(verdict "$r" "$5")
	fi
	printf '| %s%s | %s | %s | %s× | %s | %s | %s |\n' "$(mdlabel "$1/$2")" "$6" "$m" "$(mibps "$4" "$m")" "$r" "$(rss "$1" "$2")" "$tgt" "$met"
}
# mdlabel SCEN/TOOL: the tool's label, with | escaped for a markdown table.
mdlabel() {
	local l=${label[$1]}
	printf '%s' "${l//|/\\|}"
}
table_head() {
	printf '| Tool | Median s | MiB/s | Ratio | Peak RSS MiB | Target | Result |\n'
	printf '|---|---:|---:|---:|---:|---|---|\n'
}

# Baselines.
b_push=$(med push curl)
m_push=$(med push dxf)
# The verified pull is held to the real hash limit, Go's SHA-256 (with the
# CPU's SHA instructions); coreutils' sha256sum, without them, is shown too.
b_pull=$(maxf "$(med pull curl)" "$(med pull gosha256)")
b_pull_sum=$(maxf "$(med pull curl)" "$(med pull sha256sum)")
b_apush=$(med alias-push oras)
b_apull=$(med alias-pull oras)
b_list=$(med list crane)

r_push=$(ratio "$m_push" "$b_push")
r_repush=$(ratio "$(med repush dxf-cache)" "$m_push")
r_repush_nc=$(ratio "$(med repush dxf-nocache)" "$m_push")
r_pull=$(ratio "$(med pull dxf)" "$b_pull")
r_pull_sum=$(ratio "$(med pull dxf)" "$b_pull_sum")
r_apush=$(ratio "$(med alias-push dxf)" "$b_apush")
r_apull=$(ratio "$(med alias-pull dxf)" "$b_apull")
r_list=$(ratio "$(med list dxf)" "$b_list")
up_cache=$(uploads_of dxf-cache)
up_nocache=$(uploads_of dxf-nocache)
dxf_rss=$(awk -F'\t' '$2 ~ /^dxf/ && $5 > m { m = $5 } END { printf "%.1f\n", m / 1024 }' "$results")
if [ "$up_cache" -eq 0 ]; then up_verdict="**met** (0 upload requests in $RUNS runs)"; else up_verdict="**not met** ($up_cache upload requests in $RUNS runs)"; fi
rss_verdict=$(awk -v r="$dxf_rss" -v t="$TARGET_RSS_MIB" 'BEGIN { if (r <= t) print "**met**"; else printf "**not met** (%+.0f%% over)\n", (r / t - 1) * 100 }')

size_h="$BENCH_SIZE_MB MiB"
[ "$BENCH_SIZE_MB" -ne 1024 ] || size_h="1 GiB"
p1="Push $size_h, new blob"
p2="Re-push unchanged $size_h"
p3="Pull $size_h (dxf verifies)"
p4="Push alias: $BENCH_ALIAS_FILES × $BENCH_ALIAS_MB MiB"
p5="Pull alias: $BENCH_ALIAS_FILES × $BENCH_ALIAS_MB MiB"
p6="List $BENCH_TAGS tags"
chart_bar "$p1" push curl baseline "$b_push"
chart_bar "$p1" push dxf dxf "$b_push" "$TARGET_PUSH"
chart_bar "$p1" push oras peer "$b_push"
printf '%s\tdxf first push\t%s\tbaseline\t1.00×\t\n' "$p2" "$m_push" >>"$chart"
chart_bar "$p2" repush dxf-cache dxf "$m_push" "$TARGET_REPUSH"
chart_bar "$p2" repush dxf-nocache dxf "$m_push"
chart_bar "$p2" repush oras peer "$m_push"
for t in curl gosha256; do chart_bar "$p3" pull "$t" baseline "$b_pull"; done
chart_bar "$p3" pull dxf dxf "$b_pull" "$TARGET_PULL"
chart_bar "$p3" pull dxf-file dxf "$b_pull"
chart_bar "$p3" pull curl-file peer "$b_pull"
for t in sha256sum curl-sha256sum crane oras; do chart_bar "$p3" pull "$t" peer "$b_pull"; done
chart_bar "$p4" alias-push oras baseline "$b_apush"
chart_bar "$p4" alias-push dxf dxf "$b_apush" "$TARGET_ALIAS_PUSH"
chart_bar "$p5" alias-pull oras baseline "$b_apull"
chart_bar "$p5" alias-pull dxf dxf "$b_apull" "$TARGET_ALIAS_PULL"
chart_bar "$p6" list crane baseline "$b_list"
chart_bar "$p6" list dxf dxf "$b_list" "$TARGET_LIST"
chart_bar "$p6" list oras peer "$b_list"

# raw SCEN TOOL...: per-run seconds, in run order.
raw_table() {
	local scen=$1 t r runs_hdr="" sep=""
	shift
	for ((r = 1; r <= RUNS; r++)); do
		runs_hdr+=" run $r |"
		sep+="---:|"
	done
	printf '| %s |%s median |\n|---|%s---:|\n' "$scen" "$runs_hdr" "$sep"
	for t; do
		printf '| %s |' "$(mdlabel "$scen/$t")"
		awk -F'\t' -v s="$scen" -v t="$t" '$1 == s && $2 == t { printf " %s |", $4 }' "$results"
		printf ' %s |\n' "$(med "$scen" "$t")"
	done
	printf '\n'
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
elapsed=$(($(date +%s) - started))
dxf_version=$("$DXF" version 2>/dev/null | awk 'NR == 1 { print $NF }' || true)
oras_version=$("$oras" version 2>/dev/null | awk '/^Version/ { print $2 }')
crane_version=$("$crane" version 2>/dev/null || true)

# Only the load before the benchmark says anything about other work: by the
# end the benchmark's own commands have raised it.
shared_note="The 1-minute load average was low when the benchmark started: no
other work was running. Single runs still vary; the raw figures at the end show
how much."
if awk -v a="${load_start%% *}" -v n="$(nproc)" 'BEGIN { exit !(a > n / 2) }'; then
	shared_note="The machine was busy with other work when the benchmark started (see
the load average), so single runs are noisy; the raw figures at the end show how
much."
fi

mkdir -p "$BENCH_OUT"
md=$BENCH_OUT/benchmarks.md
{
	cat <<EOF
# Benchmarks

Written by \`make bench\` ([hack/bench.sh](../hack/bench.sh)) on $(date -u +%Y-%m-%d) in $((elapsed / 60)) min $((elapsed % 60)) s.
Every figure is the **median of $RUNS runs** of the whole command, timed from
the shell against a local [Distribution](https://github.com/distribution/distribution)
registry $REGISTRY_VERSION (plain HTTP, filesystem storage, same machine). The
tools take turns within each run, in an order that rotates from run to run.
Peak RSS is GNU time's "Maximum resident set size" (the largest over the runs).

![Median wall-clock time per scenario; dxf in blue, dashed red lines are the targets](benchmarks.svg)

Scale (size growth to 8 GiB, aliases of up to 10,000 blobs, 100,000 tags),
split pushes, incremental re-pushes, the speculative existence check,
random access and \`dxf check\` (\`--deep\` of a 1 GiB alias against a verified
pull; 1,000 aliases against \`list-aliases\` plus curl HEADs) are in
[benchmarks-scale.md](benchmarks-scale.md), written by
\`hack/bench-scale.sh\`, which \`make bench\` runs after this script.

| Machine | |
|---|---|
| CPU | $cpu, $(nproc) cores available |
| Memory | $mem |
| OS | $(uname -s) $(uname -r) $(uname -m) |
| Go | $(go env GOVERSION) |
| Load average (1, 5, 15 min) | at the start $load_start; at the end $(cut -d' ' -f1-3 /proc/loadavg) |
| Tools | dxf ${dxf_version:-?}, curl $(curl --version | awk 'NR == 1 { print $2 }'), oras ${oras_version:-$ORAS_VERSION}, crane ${crane_version:-$CRANE_VERSION}, $(sha256sum --version | head -n 1) |

## Targets

| Target | Measured | Result |
|---|---|---|
| Push $size_h: dxf ≤ $TARGET_PUSH× curl (monolithic PUT, digest known) | $r_push× ($m_push s vs $b_push s) | $(verdict "$r_push" "$TARGET_PUSH") |
| Re-push unchanged $size_h: ≤ $TARGET_REPUSH× first push | $r_repush× with the digest cache; $r_repush_nc× without | $(verdict "$r_repush" "$TARGET_REPUSH") |
| Re-push sends no blob bytes | digest cache: $up_cache upload requests; --no-digest-cache: $up_nocache | $up_verdict |
| Verified pull $size_h: ≤ $TARGET_PULL× max(curl, Go SHA-256) | $r_pull× ($(med pull dxf) s vs $b_pull s) | $(verdict "$r_pull" "$TARGET_PULL") |
| Peak RSS of dxf ≤ $TARGET_RSS_MIB MiB | $dxf_rss MiB (largest of all dxf runs) | $rss_verdict |
| Alias push, $BENCH_ALIAS_FILES × $BENCH_ALIAS_MB MiB: ≤ oras push | $r_apush× | $(verdict "$r_apush" "$TARGET_ALIAS_PUSH") |
| Alias pull: ≤ oras pull | $r_apull× | $(verdict "$r_apull" "$TARGET_ALIAS_PULL") |
| list-aliases, $BENCH_TAGS tags: ≤ crane ls | $r_list× | $(verdict "$r_list" "$TARGET_LIST") |

$shared_note

## 1. Push of $size_h

Each run of each tool uploads a new blob of exactly $size bytes: the first
16 bytes of the same file are overwritten with a unique stamp beforehand and
the blob is removed from the registry's storage afterwards (neither is
timed). curl is given the digest (computed beforehand, not timed), POSTs an
upload session and PUTs the file in one request. dxf runs with
\`--no-digest-cache\` and computes the digest while it sends. oras computes
the digest first, then uploads.

EOF
	table_head
	table_row push curl "$b_push" "$size" "" " (baseline)"
	table_row push dxf "$b_push" "$size" "$TARGET_PUSH" ""
	table_row push oras "$b_push" "$size" "" ""
	printf '| Python dxf (reported figure, not measured here) | | | %s× | | | |\n' "$PYTHON_PUSH"
	cat <<EOF

## 2. Re-push of the unchanged $size_h file

The registry already has the blob. The baseline is dxf's first push above
($m_push s). Normally dxf remembers the digest of each file it pushed, keyed
by path, size, modification time, change time and inode, in
\`\$XDG_CACHE_HOME/dxf-go/digests\`, so a re-push costs one HEAD request and
no read of the file: that is the point of the cache, and the target is
measured with it. The cache entry was made by an untimed push before these
runs. \`--no-digest-cache\` (DXF_DIGEST_CACHE=0) is shown for honesty.
"Upload requests" counts the POST, PATCH and PUT requests under
\`/blobs/uploads/\` in the registry's access log over all $RUNS runs.

| Tool | Median s | Ratio to first push | Peak RSS MiB | Upload requests | Target | Result |
|---|---:|---:|---:|---:|---|---|
EOF
	for t in dxf-cache dxf-nocache oras; do
		m=$(med repush "$t")
		r=$(ratio "$m" "$m_push")
		tgt="—"
		res="—"
		if [ "$t" = dxf-cache ]; then
			tgt="≤ $TARGET_REPUSH×, no upload"
			res="time $(verdict "$r" "$TARGET_REPUSH"); no upload $up_verdict"
		elif [ "$t" = dxf-nocache ]; then
			tgt="(≤ $TARGET_REPUSH×, for information)"
			res="($(verdict "$r" "$TARGET_REPUSH"))"
		fi
		printf '| %s | %s | %s× | %s | %s | %s | %s |\n' "${label[repush/$t]}" "$m" "$r" "$(rss repush "$t")" \
			"$(awk -F'\t' -v t="$t" '$2 == t { n += $4 } END { print n + 0 }' "$uploads")" "$tgt" "$res"
	done
	cat <<EOF

## 3. Verified pull of $size_h

dxf checks every byte against the digest while it streams. The baseline is
the slower of an unverified curl download and Go's crypto/sha256 of the same
bytes from the page cache (1 MiB reads): $b_pull s — the real limit of a
verified download on this machine. coreutils' \`sha256sum\` does not use the
CPU's SHA instructions; against max(curl, sha256sum) = $b_pull_sum s dxf's
ratio is $r_pull_sum×.
The "> file" and "-o file" rows write to a new file in \`\$TMPDIR\` (removed
after each run, not timed); the other downloads go to /dev/null.

EOF
	table_head
	table_row pull curl "$b_pull" "$size" "" " (baseline)"
	table_row pull gosha256 "$b_pull" "$size" "" " (baseline)"
	table_row pull dxf "$b_pull" "$size" "$TARGET_PULL" ""
	table_row pull dxf-file "$b_pull" "$size" "" ""
	table_row pull curl-file "$b_pull" "$size" "" ""
	for t in sha256sum curl-sha256sum crane oras; do table_row pull "$t" "$b_pull" "$size" "" ""; done
	printf '| Python dxf (reported figure against max(curl, sha256sum), not measured here) | | | %s× | | | |\n' "$PYTHON_PULL"
	cat <<EOF

## 4. Peak memory

Largest "Maximum resident set size" of any run, per dxf command (target:
$TARGET_RSS_MIB MiB whatever the blob size; measured here with $size_h).

| dxf command | Peak RSS MiB |
|---|---:|
EOF
	for k in push/dxf repush/dxf-cache repush/dxf-nocache pull/dxf pull/dxf-file alias-push/dxf alias-pull/dxf list/dxf; do
		printf '| %s: %s | %s |\n' "${scen_name[${k%/*}]}" "$(mdlabel "$k")" "$(rss "${k%/*}" "${k#*/}")"
	done
	cat <<EOF

## 5. An alias of $BENCH_ALIAS_FILES files of $BENCH_ALIAS_MB MiB

Every run pushes new contents (all files stamped as above). dxf: \`dxf
push-blob <repo> f001.bin … @alias\` (default --jobs); oras: \`oras push
<repo>:<tag> f001.bin …\` (default concurrency). The pulls fetch the alias
of the last run into a file (dxf) or a directory (oras). Into a regular
file dxf fetches --jobs blobs at a time, each verified and written to its
place; oras writes one file per blob, 3 at a time. Both write through the
page cache and verify every digest.

EOF
	table_head
	table_row alias-push oras "$b_apush" "$asize" "" " (baseline)"
	table_row alias-push dxf "$b_apush" "$asize" "$TARGET_ALIAS_PUSH" ""
	table_row alias-pull oras "$b_apull" "$asize" "" " (baseline)"
	table_row alias-pull dxf "$b_apull" "$asize" "$TARGET_ALIAS_PULL" ""
	cat <<EOF

## 6. Listing $BENCH_TAGS tags

The tags were created with parallel curl PUTs of one manifest (not timed).
Each tool's output is checked to have $BENCH_TAGS lines.

EOF
	table_head
	table_row list crane "$b_list" "" "" " (baseline)"
	table_row list dxf "$b_list" "" "$TARGET_LIST" ""
	table_row list oras "$b_list" "" "" ""
	cat <<EOF

## Raw figures (seconds, in run order)

EOF
	raw_table push curl dxf oras
	raw_table repush dxf-cache dxf-nocache oras
	raw_table pull curl sha256sum gosha256 curl-sha256sum crane oras dxf dxf-file curl-file
	raw_table alias-push oras dxf
	raw_table alias-pull oras dxf
	raw_table list crane dxf oras
	cat <<EOF
## Go benchmarks

\`go test -run '^\$' -bench . -benchmem ./pkg/blobstore/\` (against its own
local registry, after the runs above):

\`\`\`
$(cat "$gobench")
\`\`\`

## How to reproduce

\`\`\`sh
make bench                                   # builds bin/dxf, then runs hack/bench.sh
RUNS=3 BENCH_SIZE_MB=64 BENCH_GO=0 BENCH_OUT=/tmp/bench hack/bench.sh   # a quick try
\`\`\`

Needs Go, curl, GNU time (\`/usr/bin/time\`), coreutils and the Go module
proxy: oras $ORAS_VERSION and crane $CRANE_VERSION are installed with \`go
install\` into \`\${XDG_CACHE_HOME:-~/.cache}/dxf-go/tools/\`, the registry as
for the tests. Knobs: \`RUNS\` (default 5), \`BENCH_SIZE_MB\` (1024),
\`BENCH_ALIAS_FILES\` (64), \`BENCH_ALIAS_MB\` (4), \`BENCH_TAGS\` (10000),
\`BENCH_GO\` (1; 0 skips the Go benchmarks), \`BENCH_OUT\` (docs), \`DXF\`
(bin/dxf). A default run takes about $(((elapsed + 59) / 60)) minutes here and needs about
6 GiB of free space in \`\$TMPDIR\` (scratch data and the registry's storage,
removed at the end).
EOF
} >"$md"

"$work/benchchart" -in "$chart" -out "$BENCH_OUT/benchmarks.svg"
log "done in $((elapsed / 60)) min $((elapsed % 60)) s: $md"

if [ "${BENCH_COPY:-registry,mount}" != none ]; then
	log "copy scenarios (${BENCH_COPY:-registry,mount}): hack/bench-copy.sh"
	RUNS=$RUNS BENCH_OUT=$BENCH_OUT DXF=$DXF BENCH_TOOLS_DIR=$BENCH_TOOLS_DIR "$root/hack/bench-copy.sh"
fi
awk '/^## Targets/ { on = 1; next } on && /^\| Target/ { next } on && /^\|---/ { next } on && /^\|/ { print } on && /^$/ && n++ { exit }' "$md" >&2
