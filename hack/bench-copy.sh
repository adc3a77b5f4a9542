#!/usr/bin/env bash
# Copy benchmarks: dxf copy against oras cp and crane cp, on two fresh local
# Distribution registries (plain HTTP); writes docs/benchmarks-copy.md.
# hack/bench.sh runs it at its end (BENCH_COPY=none skips it there).
#
# Scenarios (BENCH_COPY selects, comma-separated; default all):
#   registry  an alias of BENCH_COPY_FILES blobs, BENCH_COPY_MB MiB in all,
#             copied from one registry to the other, into a new repository
#             every run (nothing can be skipped): the bytes go through the
#             client, verified by dxf.
#   mount     an alias of BENCH_MOUNT_BLOBS blobs copied between two
#             repositories of one registry: cross-repository mounts, no blob
#             byte through the client (upload requests are counted from the
#             registry's log and must be 0 for dxf).
#
# Each scenario runs every tool RUNS times, the tools taking turns; tables
# show medians and the largest peak RSS (/usr/bin/time -v). The registry
# scenario also times hack/floor: the same wire work (GET, then POST and a
# monolithic PUT per blob, each blob hashed and checked on the way) in raw
# net/http, with nothing else: the floor any client can reach. The CPU time
# both registries used during each run is read from /proc.
#
# Knobs: RUNS=3, BENCH_COPY=registry,mount, BENCH_COPY_MB=1024,
# BENCH_COPY_FILES=8, BENCH_MOUNT_BLOBS=64, BENCH_MOUNT_KB=256,
# BENCH_OUT=docs, DXF=bin/dxf, BENCH_TOOLS_DIR (as hack/bench.sh),
# BENCH_DXF_FLAGS (extra dxf copy flags, e.g. "--jobs 4", for experiments),
# BENCH_FLOOR_JOBS=8 (blobs hack/floor copies at once).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
root=$PWD

RUNS=${RUNS:-3}
BENCH_COPY=${BENCH_COPY:-registry,mount}
BENCH_COPY_MB=${BENCH_COPY_MB:-1024}
BENCH_COPY_FILES=${BENCH_COPY_FILES:-8}
BENCH_MOUNT_BLOBS=${BENCH_MOUNT_BLOBS:-64}
BENCH_MOUNT_KB=${BENCH_MOUNT_KB:-256}
BENCH_OUT=${BENCH_OUT:-$root/docs}
BENCH_FLOOR_JOBS=${BENCH_FLOOR_JOBS:-8}
DXF=${DXF:-$root/bin/dxf}
BENCH_TOOLS_DIR=${BENCH_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dxf-go/tools}
# shellcheck source=hack/bench-tools.sh
. "$root/hack/bench-tools.sh" # install_tool and the pinned versions of the peers

# Goal of issue 21: a registry-to-registry copy at most 0.8x the faster of
# oras cp and crane cp.
TARGET_COPY=0.80

log() { printf '[bench-copy %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}
want() { [[ ",$BENCH_COPY," == *",$1,"* ]]; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
for v in RUNS BENCH_COPY_MB BENCH_COPY_FILES BENCH_MOUNT_BLOBS BENCH_MOUNT_KB BENCH_FLOOR_JOBS; do
	is_uint "${!v}" || die "$v must be a positive integer, not '${!v}'"
done
[ "$BENCH_COPY_FILES" -le 999 ] || die "BENCH_COPY_FILES must be at most 999"
[ -x "$DXF" ] || die "$DXF not found: run 'make build' first"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is needed for peak RSS"
for c in curl awk head go; do
	command -v "$c" >/dev/null || die "$c is needed"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/dxf-bench-copy.XXXXXX")
pids=()
cleanup() {
	local rc=$? p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
	[ $rc -eq 0 ] || log "exit status $rc; temporary data removed"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

oras=$(install_tool oras "$ORAS_MODULE" "$ORAS_VERSION")
crane=$(install_tool crane "$CRANE_MODULE" "$CRANE_VERSION")
go build -o "$work/localregistry" ./hack/localregistry
go build -o "$work/floor" ./hack/floor

# start_registry NAME: starts a registry; sets NAME_host, NAME_log and
# NAME_pid (the registry process's, for its CPU time).
start_registry() {
	local n=$1 pid i dir
	mkdir -p "$work/$n"
	TMPDIR=$work/$n "$work/localregistry" -env "$work/$n.env" >"$work/$n.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	for i in $(seq 1 1200); do
		[ -s "$work/$n.env" ] && break
		kill -0 "$pid" 2>/dev/null || { cat "$work/$n.log" >&2; die "registry $n did not start"; }
		sleep 0.5
	done
	[ -s "$work/$n.env" ] || die "registry $n did not start in 10 minutes"
	printf -v "${n}_host" '%s' "$(sed -n 's/^export DXF_HOST=//p' "$work/$n.env" | tr -d "'")"
	dir=$(echo "$work/$n"/registrytest-*)
	printf -v "${n}_log" '%s' "$dir/registry.log"
	printf -v "${n}_pid" '%s' "$(ps -o pid= --ppid "$pid" | tr -d ' ' | head -n 1)"
}
# regcpu: CPU seconds (user + system) both registries have used so far.
regcpu() {
	local p t=0
	for p in "$a_pid" "$b_pid"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
	done
	awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
log "starting two local Distribution registries $REGISTRY_VERSION (plain HTTP)"
start_registry a
start_registry b
# shellcheck disable=SC2154 # set by start_registry
log "registries at $a_host and $b_host"

dxf=(env -u DXF_HOST "XDG_CACHE_HOME=$work/xdg" DXF_INSECURE=1 DXF_PROGRESS=0 "$DXF")
results=$work/results.tsv # scenario, tool, run, seconds, peak RSS KiB, upload requests, registry CPU s
: >"$results"

# upload_requests LOG: upload requests (POST, PATCH, PUT under
# /blobs/uploads/, mounts excluded) the registry has logged so far.
upload_requests() { grep -E '"(POST|PATCH|PUT) /v2/[^ ]*/blobs/uploads/' "$1" | grep -cv 'mount=' || true; }

# timed SCENARIO TOOL RUN LOG CMD...: run CMD, recording time, peak RSS and
# the upload requests LOG gained.
timed() {
	local scen=$1 tool=$2 run=$3 rlog=$4 t0 t1 rc=0 rss secs u0 u1 c0 c1
	shift 4
	u0=$(upload_requests "$rlog")
	sync
	c0=$(regcpu)
	t0=$EPOCHREALTIME
	/usr/bin/time -v -o "$work/time.txt" "$@" >"$work/out" 2>"$work/cmd.err" || rc=$?
	t1=$EPOCHREALTIME
	c1=$(regcpu)
	if [ $rc -ne 0 ]; then
		log "$tool failed (exit status $rc) in $scen, run $run: $*"
		tail -n 20 "$work/cmd.err" | sed 's/^/    /' >&2
		die "$scen: $tool"
	fi
	sleep 0.5 # the registry logs a request when its handler returns
	u1=$(upload_requests "$rlog")
	rss=$(awk -F': *' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" "$tool" "$run" "$secs" "$rss" "$((u1 - u0))" "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')" >>"$results"
	log "$(printf '  %-9s run %d  %-6s %8.3f s  %6.1f MiB  %d upload requests' "$scen" "$run" "$tool" "$secs" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$((u1 - u0))")"
}

# manifest_digest HOST REPO TAG
manifest_digest() {
	curl -sSfI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' \
		"http://$1/v2/$2/manifests/$3" | tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }'
}

rotate() { # N WORD...: the words, starting with the (N mod count)th
	local n=$1 i
	shift
	local a=("$@")
	for ((i = 0; i < ${#a[@]}; i++)); do
		printf '%s\n' "${a[(i + n) % ${#a[@]}]}"
	done
}

# copy_run SCENARIO TOOL RUN SRC_HOST SRC_REPO DST_HOST DST_REPO LOG
copy_run() {
	local scen=$1 tool=$2 run=$3 sh=$4 sr=$5 dh=$6 dr=$7 rlog=$8 got
	case $tool in
	dxf) timed "$scen" dxf "$run" "$rlog" "${dxf[@]}" copy ${BENCH_DXF_FLAGS:-} "$sh/$sr@v1" "$dh/$dr@v1" ;;
	oras) timed "$scen" oras "$run" "$rlog" "$oras" cp --from-plain-http --to-plain-http "$sh/$sr:v1" "$dh/$dr:v1" ;;
	crane) timed "$scen" crane "$run" "$rlog" "$crane" cp --insecure "$sh/$sr:v1" "$dh/$dr:v1" ;;
	floor) timed "$scen" floor "$run" "$rlog" "$work/floor" copy -jobs "$BENCH_FLOOR_JOBS" "$sh/$sr:v1" "$dh/$dr:v1" ;;
	esac
	got=$(manifest_digest "$dh" "$dr" v1)
	[ "$got" = "$src_digest" ] || die "$tool copied to a manifest $got, the source's is $src_digest"
}

# --- registry to registry ----------------------------------------------------------

if want registry; then
	per=$(((BENCH_COPY_MB << 20) / BENCH_COPY_FILES))
	log "registry: an alias of $BENCH_COPY_FILES blobs of $per bytes ($BENCH_COPY_MB MiB), $a_host -> $b_host"
	mkdir -p "$work/data"
	files=()
	for ((i = 1; i <= BENCH_COPY_FILES; i++)); do
		f=$(printf '%s/data/f%03d.bin' "$work" "$i")
		head -c "$per" /dev/urandom >"$f"
		files+=("$f")
	done
	"${dxf[@]}" push-blob "$a_host/bench/src" "${files[@]}" @v1 >/dev/null || die "dxf push-blob (the source alias)"
	rm -rf "$work/data"
	src_digest=$(manifest_digest "$a_host" bench/src v1)
	for ((r = 1; r <= RUNS; r++)); do
		for t in $(rotate "$r" oras crane dxf floor); do
			copy_run registry "$t" "$r" "$a_host" bench/src "$b_host" "bench/$t-$r" "$b_log"
		done
	done
fi

# --- mount within one registry -------------------------------------------------------

if want mount; then
	log "mount: an alias of $BENCH_MOUNT_BLOBS blobs of $BENCH_MOUNT_KB KiB, between two repositories of $a_host"
	mkdir -p "$work/mount"
	files=()
	for ((i = 1; i <= BENCH_MOUNT_BLOBS; i++)); do
		f=$(printf '%s/mount/m%03d.bin' "$work" "$i")
		head -c $((BENCH_MOUNT_KB << 10)) /dev/urandom >"$f"
		files+=("$f")
	done
	"${dxf[@]}" push-blob "$a_host/bench/msrc" "${files[@]}" @v1 >/dev/null || die "dxf push-blob (the mount source)"
	rm -rf "$work/mount"
	src_digest=$(manifest_digest "$a_host" bench/msrc v1)
	for ((r = 1; r <= RUNS; r++)); do
		for t in $(rotate "$r" oras crane dxf); do
			copy_run mount "$t" "$r" "$a_host" bench/msrc "$a_host" "bench/m$t-$r" "$a_log"
		done
	done
	n=$(awk -F'\t' '$1 == "mount" && $2 == "dxf" { n += $6 } END { print n + 0 }' "$results")
	[ "$n" -eq 0 ] || die "dxf copy sent $n upload requests in the mount scenario"
fi

# --- report ----------------------------------------------------------------------------

med() { # SCENARIO TOOL: median seconds
	awk -F'\t' -v s="$1" -v t="$2" '$1 == s && $2 == t { print $4 }' "$results" | sort -g |
		awk '{ a[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) printf "%.3f\n", a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
regs() { # SCENARIO TOOL: median registry CPU seconds
	awk -F'\t' -v s="$1" -v t="$2" '$1 == s && $2 == t { print $7 }' "$results" | sort -g |
		awk '{ a[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) printf "%.2f\n", a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
rss() { awk -F'\t' -v s="$1" -v t="$2" '$1 == s && $2 == t && $5 > m { m = $5 } END { printf "%.1f\n", m / 1024 }' "$results"; }
uploads() { awk -F'\t' -v s="$1" -v t="$2" '$1 == s && $2 == t { n += $6; r++ } END { printf "%.0f\n", r ? n / r : 0 }' "$results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
minf() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }

elapsed=$(($(date +%s) - started))
mkdir -p "$BENCH_OUT"
md=$BENCH_OUT/benchmarks-copy.md
{
	printf '# Copy benchmarks\n\n'
	printf 'Written by `hack/bench-copy.sh` (run by `hack/bench.sh`, or alone; `BENCH_COPY=registry,mount` selects scenarios) on %s in %d min %d s: two local Distribution registries %s (plain HTTP) on the same machine (%s, %s cores). Load average at the start %s, at the end %s. %d runs per tool, medians; tools take turns.\n\n' \
		"$(date -u +%Y-%m-%d)" $((elapsed / 60)) $((elapsed % 60)) "$REGISTRY_VERSION" "$(uname -m)" "$(nproc)" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)" "$RUNS"
	if want registry; then
		best=$(minf "$(med registry oras)" "$(med registry crane)")
		printf '## Registry to registry: %d MiB in %d blobs\n\n' "$BENCH_COPY_MB" "$BENCH_COPY_FILES"
		printf 'Goal (issue 21): dxf copy ≤ %s× the faster of oras cp and crane cp.\n\n' "$TARGET_COPY"
		printf 'floor: `hack/floor copy -jobs %s`, the same wire work in raw net/http (GET, then POST and a monolithic PUT per blob, %s at once, each blob hashed on the way and its PUT aborted on a mismatch) and nothing else. Registry CPU: what both registries used during the run (user + system, from /proc), median.\n\n' "$BENCH_FLOOR_JOBS" "$BENCH_FLOOR_JOBS"
		printf '| tool | median s | MiB/s | × the faster peer | peak RSS MiB | registry CPU s |\n|---|---:|---:|---:|---:|---:|\n'
		for t in dxf oras crane floor; do
			m=$(med registry "$t")
			printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "$m" "$(awk -v n="$BENCH_COPY_MB" -v s="$m" 'BEGIN { printf "%.0f", n / s }')" "$(ratio "$m" "$best")" "$(rss registry "$t")" "$(regs registry "$t")"
		done
		printf '\n'
	fi
	if want mount; then
		printf '## Mount copy: %d blobs of %d KiB between two repositories of one registry\n\n' "$BENCH_MOUNT_BLOBS" "$BENCH_MOUNT_KB"
		printf 'Upload requests are those the registry logged under `/blobs/uploads/` other than mounts, per run: 0 means no blob byte went through the client.\n\n'
		printf '| tool | median s | upload requests per run | peak RSS MiB |\n|---|---:|---:|---:|\n'
		for t in dxf oras crane; do
			printf '| %s | %s | %s | %s |\n' "$t" "$(med mount "$t")" "$(uploads mount "$t")" "$(rss mount "$t")"
		done
		printf '\n'
	fi
	printf 'Commands: `dxf copy HOST/REPO@v1 HOST2/REPO2@v1`, `oras cp --from-plain-http --to-plain-http`, `crane cp --insecure` (oras %s, crane %s).\n' "$ORAS_VERSION" "$CRANE_VERSION"
} >"$md"
log "done in $((elapsed / 60)) min $((elapsed % 60)) s: $md"
cat "$md" >&2
