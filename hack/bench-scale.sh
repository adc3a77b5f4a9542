#!/usr/bin/env bash
# Scale and incremental benchmarks (issue 14): run by `make bench` after
# hack/bench.sh, or alone with `make bench-scale` / `hack/bench-scale.sh`.
# Writes $BENCH_OUT/benchmarks-scale.md.
#
# Scenarios (BENCH_SCALE selects, comma-separated; default all):
#   growth       push and pull time and peak RSS against size (single runs)
#   blobs        one alias of 1 … 10,000 files of 64 KiB: dxf vs oras
#   tags         list-aliases of many tags vs crane ls
#   incremental  split push of a big file, then re-pushes after an edit in
#                the middle and an insertion at the start, vs whole-file
#                pushes by dxf and oras; speculative re-push of an existing
#                blob with no digest cache vs Go's SHA-256; random access
#   check        dxf check --deep of a big alias vs a verified pull; shallow
#                dxf check of many aliases vs list-aliases + one HEAD per
#                blob by curl in parallel
#   layout       push and verified pull (-o) of a big file on an OCI image
#                layout (oci:DIR, no registry) vs cp + Go's SHA-256 of it,
#                and vs cp + sync + SHA-256 (median of BENCH_LAYOUT_RUNS)
#   tree         a directory of N files of 4 KiB: push-blob DIR vs oras push
#                of the files, the re-push after one file changed (time and
#                uploads, HEADs and manifest PUTs counted in the registry's
#                log), pull-blob --dir vs oras pull; beside them hack/floor,
#                the same wire work in raw net/http (POST and a monolithic
#                PUT per file; GET per file, checked, into a file) and
#                nothing else, at BENCH_FLOOR_JOBS and at 32 at once, and
#                the registry's CPU time for each step (from /proc); run
#                against the registry storing on disk, then against a
#                second one storing in /dev/shm (a RAM file system)
#
# Knobs: BENCH_GROWTH_MB="1 16 256 1024 4096 8192", BENCH_BLOBS="1 10 100
# 1000 10000", BENCH_SCALE_TAGS=100000, BENCH_INC_MB=1024, BENCH_LAYOUT_MB=1024,
# BENCH_LAYOUT_RUNS=3, BENCH_TREE_FILES=10000, BENCH_FLOOR_JOBS=8, BENCH_CHECK_MB=1024, BENCH_CHECK_ALIASES=1000, BENCH_OUT=docs,
# DXF=bin/dxf, BENCH_TOOLS_DIR (where oras and crane are installed).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
root=$PWD

BENCH_SCALE=${BENCH_SCALE:-growth,blobs,tags,incremental,layout,tree,check}
BENCH_GROWTH_MB=${BENCH_GROWTH_MB:-1 16 256 1024 4096 8192}
BENCH_BLOBS=${BENCH_BLOBS:-1 10 100 1000 10000}
BENCH_SCALE_TAGS=${BENCH_SCALE_TAGS:-100000}
BENCH_INC_MB=${BENCH_INC_MB:-1024}
BENCH_LAYOUT_MB=${BENCH_LAYOUT_MB:-1024}
BENCH_LAYOUT_RUNS=${BENCH_LAYOUT_RUNS:-3}
BENCH_TREE_FILES=${BENCH_TREE_FILES:-10000}
BENCH_FLOOR_JOBS=${BENCH_FLOOR_JOBS:-8}
BENCH_CHECK_MB=${BENCH_CHECK_MB:-1024}
BENCH_CHECK_ALIASES=${BENCH_CHECK_ALIASES:-1000}
BENCH_OUT=${BENCH_OUT:-$root/docs}
DXF=${DXF:-$root/bin/dxf}
BENCH_TOOLS_DIR=${BENCH_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dxf-go/tools}

log() { printf '[bench-scale %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}
want() { [[ ",$BENCH_SCALE," == *",$1,"* ]]; }
[ -x "$DXF" ] || die "$DXF not found: run 'make build' first"
# shellcheck source=hack/bench-tools.sh
. "$root/hack/bench-tools.sh" # install_tool and the pinned versions of the peers
ORAS=$(install_tool oras "$ORAS_MODULE" "$ORAS_VERSION")
CRANE=$(install_tool crane "$CRANE_MODULE" "$CRANE_VERSION")

work=$(mktemp -d "${TMPDIR:-/tmp}/dxf-bench-scale.XXXXXX")
reg_pid=
ram_pid=
ramtmp=
cleanup() {
	local p
	for p in $reg_pid $ram_pid; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work" ${ramtmp:+"$ramtmp"}
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

go build -o "$work/localregistry" ./hack/localregistry
go build -o "$work/gosha256" ./hack/benchchart/gosha256
go build -o "$work/floor" ./hack/floor
# start_registry DIR ENV VAR: starts a local registry keeping its files in
# DIR, waits for its export lines in ENV, and sets VAR to its pid.
start_registry() {
	local pid
	mkdir -p "$1"
	TMPDIR=$1 "$work/localregistry" -env "$2" >"$2.log" 2>&1 &
	pid=$!
	printf -v "$3" '%s' "$pid"
	for _ in $(seq 1 1200); do
		[ -s "$2" ] && return
		kill -0 "$pid" 2>/dev/null || die "the registry in $1 did not start: $(tail -n 5 "$2.log")"
		sleep 0.5
	done
	die "the registry in $1 did not start in 10 minutes"
}
start_registry "$work/reg" "$work/env" reg_pid
# shellcheck disable=SC1091
. "$work/env"
host=$DXF_HOST
url=http://$host
regdir=$(echo "$work"/reg/registrytest-*)
storage=$regdir/storage/docker/registry/v2
log "registry $REGISTRY_VERSION at $url; scratch in $work; load $load_start"
dxf=(env "XDG_CACHE_HOME=$work/xdg" DXF_PROGRESS=0 "$DXF")

# timed OUT CMD...: run CMD, print "seconds peak-RSS-MiB".
timed() {
	local out=$1 t0 t1 rss
	shift
	sync
	t0=$EPOCHREALTIME
	/usr/bin/time -v -o "$work/time.txt" "$@" >"$out" 2>"$work/cmd.err" || {
		tail -n 20 "$work/cmd.err" >&2
		die "$*"
	}
	t1=$EPOCHREALTIME
	rss=$(awk -F': *' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$work/time.txt")
	awk -v a="$t0" -v b="$t1" -v r="$rss" 'BEGIN { printf "%.3f %s\n", b - a, r }'
}
stored() {
	if [ -d "$storage/blobs" ]; then du -sb "$storage/blobs" | cut -f1; else echo 0; fi
}
# requests REPO: how many requests for REPO the registry's access log holds.
requests() { grep -cE "\"[A-Z]+ /v2/$1/" "$regdir/registry.log" || true; }
mib() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
purge_all() { rm -rf "$storage/blobs" "$storage/repositories"; }

md=$work/scale.md
: >"$md"

# --- growth -------------------------------------------------------------------
if want growth; then
	log "growth: push and pull against size: $BENCH_GROWTH_MB MiB"
	{
		printf '## Growth: one blob, 1 MiB to %s MiB\n\n' "${BENCH_GROWTH_MB##* }"
		printf 'Single runs (a new blob each; the registry'"'"'s storage emptied between pushes). Push: `dxf push-blob --no-digest-cache`, beside curl'"'"'s monolithic PUT of the same file with its digest known (the baseline of any push: once the registry'"'"'s writes outgrow the page cache'"'"'s dirty limit, both wait on the disk); pull: `dxf pull-blob > /dev/null` (verified), beside Go'"'"'s SHA-256 of the file. Load average at each start in the last column.\n\n'
		printf '| Size MiB | Push s | Push MiB/s | curl push s | Push / curl | Push peak RSS MiB | Pull s | Pull MiB/s | Pull peak RSS MiB | Go SHA-256 s | Pull / SHA-256 | Load |\n'
		printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n'
	} >>"$md"
	for mb in $BENCH_GROWTH_MB; do
		avail=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
		if [ $((avail / 1024)) -lt $((mb * 2 + 2048)) ]; then
			log "  $mb MiB: not enough free space ($((avail / 1024)) MiB), stopping the growth series"
			printf '| %s | (not run: %s MiB free) | | | | | | | | | | |\n' "$mb" "$((avail / 1024))" >>"$md"
			break
		fi
		f=$work/g.bin
		head -c $((mb << 20)) /dev/urandom >"$f"
		# The new file's pages go to the disk now, not during the push.
		sync
		load=$(cut -d' ' -f1 /proc/loadavg)
		read -r hs _ < <(timed "$work/out" "$work/gosha256" "$f")
		d=sha256:$(cut -d' ' -f1 "$work/out")
		read -r cs _ < <(timed /dev/null "$root/hack/curl-push.sh" "$url" bench/growth-curl "$f" "$d")
		purge_all
		read -r ps pr < <(timed "$work/out" "${dxf[@]}" push-blob --no-digest-cache bench/growth "$f")
		[ "$(cat "$work/out")" = "$d" ] || die "dxf pushed $(cat "$work/out"), not $d"
		read -r ls lr < <(timed /dev/null "${dxf[@]}" pull-blob bench/growth "$d")
		log "  $mb MiB: push $ps s ($pr MiB; curl $cs s), pull $ls s ($lr MiB), sha256 $hs s"
		printf '| %s | %s | %.0f | %s | %s× | %s | %s | %.0f | %s | %s | %s× | %s |\n' "$mb" "$ps" "$(awk -v m="$mb" -v s="$ps" 'BEGIN { print m / s }')" "$cs" "$(ratio "$ps" "$cs")" "$pr" \
			"$ls" "$(awk -v m="$mb" -v s="$ls" 'BEGIN { print m / s }')" "$lr" "$hs" "$(ratio "$ls" "$hs")" "$load" >>"$md"
		rm -f "$f"
		purge_all
	done
	printf '\n' >>"$md"
fi

# --- blobs ----------------------------------------------------------------------
if want blobs; then
	log "blobs: an alias of N files of 64 KiB: $BENCH_BLOBS"
	{
		printf '## Many blobs in one alias: N files of 64 KiB\n\n'
		printf 'Single runs, new contents each. Push: `dxf push-blob <repo> files… @alias` vs `oras push <repo>:<tag> files…`; pull: `dxf pull-blob @alias > file` vs `oras pull -o dir`. Default concurrency for both.\n\n'
		printf 'Requests: what the registry'"'"'s access log counts for each push (dxf HEADs a new blob after its commit only when the commit'"'"'s answer does not name it).\n\n'
		printf '| Files | dxf push s | oras push s | ratio | dxf push requests | oras push requests | dxf push RSS MiB | oras push RSS MiB | dxf pull s | oras pull s | ratio | dxf pull RSS MiB | oras pull RSS MiB | Load |\n'
		printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n'
	} >>"$md"
	for n in $BENCH_BLOBS; do
		dir=$work/blobs-$n
		mkdir -p "$dir"
		(cd "$dir" && for ((i = 0; i < n; i++)); do head -c 65536 /dev/urandom >"f$i"; done)
		files=()
		for ((i = 0; i < n; i++)); do files+=("f$i"); done
		load=$(cut -d' ' -f1 /proc/loadavg)
		cd "$dir"
		r0=$(requests bench/blobs)
		read -r dps dpr < <(timed "$work/out" "${dxf[@]}" push-blob bench/blobs "${files[@]}" "@n$n")
		r1=$(requests bench/blobs)
		for f in "${files[@]}"; do printf 'x' | dd of="$f" bs=1 count=1 conv=notrunc status=none; done
		read -r ops opr < <(timed "$work/out" "$ORAS" push --plain-http "$host/bench/blobs:oras$n" "${files[@]}")
		r2=$(requests bench/blobs)
		cd "$root"
		read -r dls dlr < <(timed "$work/pulled" "${dxf[@]}" pull-blob bench/blobs "@n$n")
		[ "$(stat -c %s "$work/pulled")" -eq $((n * 65536)) ] || die "dxf pulled $(stat -c %s "$work/pulled") bytes"
		rm -rf "$work/oras.out" "$work/pulled"
		read -r ols olr < <(timed "$work/out" "$ORAS" pull --plain-http -o "$work/oras.out" "$host/bench/blobs:oras$n")
		rm -rf "$work/oras.out" "$dir"
		log "  $n files: push dxf $dps s ($((r1 - r0)) requests) oras $ops s ($((r2 - r1)) requests); pull dxf $dls s oras $ols s"
		printf '| %s | %s | %s | %s× | %s | %s | %s | %s | %s | %s | %s× | %s | %s | %s |\n' "$n" "$dps" "$ops" "$(ratio "$dps" "$ops")" "$((r1 - r0))" "$((r2 - r1))" "$dpr" "$opr" \
			"$dls" "$ols" "$(ratio "$dls" "$ols")" "$dlr" "$olr" "$load" >>"$md"
	done
	printf '\n' >>"$md"
	purge_all
fi

# --- tags -------------------------------------------------------------------------
if want tags; then
	n=$BENCH_SCALE_TAGS
	log "tags: creating $n tags (not timed)"
	printf 'tags\n' >"$work/small.txt"
	"${dxf[@]}" push-blob bench/tags "$work/small.txt" @t0 >/dev/null
	mtype=application/vnd.docker.distribution.manifest.v2+json
	curl -sSf -H "Accept: $mtype" -o "$work/manifest.json" "$url/v2/bench/tags/manifests/t0"
	for ((i = 1; i < n; i++)); do
		printf 'url = "%s/v2/bench/tags/manifests/t%d"\nupload-file = "%s"\n' "$url" "$i" "$work/manifest.json"
	done >"$work/tags.curlrc"
	curl -sSf --no-progress-meter --parallel --parallel-max 16 -H "Content-Type: $mtype" -o /dev/null -K "$work/tags.curlrc" || die "creating tags"
	load=$(cut -d' ' -f1 /proc/loadavg)
	read -r ds dr < <(timed "$work/out" "${dxf[@]}" list-aliases bench/tags)
	[ "$(wc -l <"$work/out")" -eq "$n" ] || die "dxf listed $(wc -l <"$work/out") tags"
	read -r cs cr < <(timed "$work/out" "$CRANE" ls --insecure "$host/bench/tags")
	[ "$(wc -l <"$work/out")" -eq "$n" ] || die "crane listed $(wc -l <"$work/out") tags"
	log "  list $n tags: dxf $ds s, crane $cs s"
	{
		printf '## Listing %s tags\n\n' "$n"
		printf '| Tool | s | Peak RSS MiB |\n|---|---:|---:|\n'
		printf '| crane ls | %s | %s |\n| dxf list-aliases | %s (%s×) | %s |\n\n' "$cs" "$cr" "$ds" "$(ratio "$ds" "$cs")" "$dr"
		printf 'Single runs; load average %s at the start.\n\n' "$load"
	} >>"$md"
fi

# --- incremental --------------------------------------------------------------------
if want incremental; then
	mb=$BENCH_INC_MB
	log "incremental: $mb MiB"
	f=$work/inc.bin
	head -c $((mb << 20)) /dev/urandom >"$f"
	sync
	load=$(cut -d' ' -f1 /proc/loadavg)
	rows=()
	# row LABEL SECONDS RSS SENT_BYTES BASE_SECONDS
	row() { rows+=("| $1 | $2 | $(ratio "$2" "$5")× | $(mib "$4") | $(awk -v s="$4" -v t=$((mb << 20)) 'BEGIN { printf "%.2f", 100 * s / t }')% | $3 |"); }
	b0=$(stored)
	read -r s1 r1 < <(timed "$work/out" "${dxf[@]}" push-blob --split bench/inc "$f" @split)
	b1=$(stored)
	chunks=$(wc -l <"$work/out")
	row "dxf push-blob --split, first push ($chunks chunks)" "$s1" "$r1" $((b1 - b0)) "$s1"
	read -r s2 r2 < <(timed "$work/out" "${dxf[@]}" push-blob --split bench/inc "$f" @split)
	b2=$(stored)
	row "dxf push-blob --split, unchanged" "$s2" "$r2" $((b2 - b1)) "$s1"
	# 1 MiB changed in the middle.
	head -c $((1 << 20)) /dev/urandom | dd of="$f" bs=1M seek=$((mb / 2)) conv=notrunc status=none
	read -r s3 r3 < <(timed "$work/out" "${dxf[@]}" push-blob --split bench/inc "$f" @split)
	b3=$(stored)
	row "dxf push-blob --split, 1 MiB changed in the middle" "$s3" "$r3" $((b3 - b2)) "$s1"
	cmp <("${dxf[@]}" pull-blob bench/inc @split) "$f" || die "the split alias does not read back"
	read -r w3 wr3 < <(timed "$work/out" "${dxf[@]}" push-blob --no-digest-cache bench/inc "$f")
	b3w=$(stored)
	row "dxf push-blob (whole file), 1 MiB changed in the middle" "$w3" "$wr3" $((b3w - b3)) "$s1"
	# oras gets a copy changed elsewhere too (dxf just stored this version).
	cp "$f" "$f.oras"
	head -c $((1 << 20)) /dev/urandom | dd of="$f.oras" bs=1M seek=$((mb / 2 + 3)) conv=notrunc status=none
	b3o=$(stored)
	read -r o3 or3 < <(timed "$work/out" "$ORAS" blob push --plain-http "$host/bench/inc" "$f.oras")
	b3p=$(stored)
	rm -f "$f.oras"
	row "oras blob push (whole file), 1 MiB changed in the middle" "$o3" "$or3" $((b3p - b3o)) "$s1"
	# 1 MiB inserted at the start.
	{ head -c $((1 << 20)) /dev/urandom; cat "$f"; } >"$f.new"
	mv "$f.new" "$f"
	b4a=$(stored)
	read -r s4 r4 < <(timed "$work/out" "${dxf[@]}" push-blob --split bench/inc "$f" @split)
	b4=$(stored)
	row "dxf push-blob --split, 1 MiB inserted at the start" "$s4" "$r4" $((b4 - b4a)) "$s1"
	read -r w4 wr4 < <(timed "$work/out" "${dxf[@]}" push-blob --no-digest-cache bench/inc "$f")
	b4w=$(stored)
	row "dxf push-blob (whole file), 1 MiB inserted at the start" "$w4" "$wr4" $((b4w - b4)) "$s1"
	# Random access: 1 MiB at a random offset of the split alias.
	size=$(stat -c %s "$f")
	off=$(((RANDOM * 32768 + RANDOM) % (size - (1 << 20))))
	gets0=$(grep -c '"GET /v2/bench/inc/blobs/' "$regdir/registry.log" || true)
	read -r rs rr < <(timed "$work/out" "${dxf[@]}" pull-blob --range "$off-$((off + (1 << 20) - 1))" bench/inc @split)
	gets1=$(grep -c '"GET /v2/bench/inc/blobs/' "$regdir/registry.log" || true)
	cmp "$work/out" <(tail -c +$((off + 1)) "$f" | head -c $((1 << 20))) || die "--range read back other bytes"
	read -r fs fr < <(timed /dev/null "${dxf[@]}" pull-blob bench/inc @split)
	# Speculative existence check: the registry has the whole file (pushed
	# above); a re-push with no digest cache hashes ahead and cancels.
	read -r hs _ < <(timed /dev/null "$work/gosha256" "$f")
	b5=$(stored)
	read -r sp spr < <(timed "$work/out" "${dxf[@]}" push-blob --no-digest-cache bench/inc "$f")
	b5b=$(stored)
	log "  split first $s1 s, unchanged $s2 s, middle $s3 s (whole $w3 s, oras $o3 s), insert $s4 s (whole $w4 s); range $rs s ($((gets1 - gets0)) GETs) vs full $fs s; speculative re-push $sp s vs sha256 $hs s"
	{
		printf '## Incremental pushes of a %s MiB file\n\n' "$mb"
		printf 'Single runs, in this order, load average %s at the start. "Sent" is what the registry'"'"'s blob storage grew by (bytes it had to receive). Ratios are to the first split push. No digest cache is involved: every split push reads, chunks and hashes the whole file and asks the registry for each chunk (HEAD, --jobs at a time).\n\n' "$load"
		printf '| Push | s | Ratio to first split push | Sent MiB | Sent %% of file | Peak RSS MiB |\n|---|---:|---:|---:|---:|---:|\n'
		printf '%s\n' "${rows[@]}"
		printf '\n### Speculative existence check (unsplit push, no digest cache)\n\n'
		printf '| | s | Ratio to Go SHA-256 of the file |\n|---|---:|---:|\n'
		printf '| Go crypto/sha256 of the file | %s | 1.00× |\n' "$hs"
		printf '| dxf push-blob --no-digest-cache of a blob the registry has | %s | %s× |\n\n' "$sp" "$(ratio "$sp" "$hs")"
		printf 'The registry'"'"'s storage grew by %s MiB during that re-push (the upload was cancelled and its session deleted).\n\n' "$(mib $((b5b - b5)))"
		printf '### Random access\n\n'
		printf '| | s | Blob GETs |\n|---|---:|---:|\n'
		printf '| dxf pull-blob --range (1 MiB at offset %s) @split | %s | %s |\n' "$off" "$rs" "$((gets1 - gets0))"
		printf '| dxf pull-blob @split (all %s MiB) | %s | %s |\n\n' "$mb" "$fs" "$chunks+"
	} >>"$md"
	rm -f "$f"
fi

# --- check ---------------------------------------------------------------------------
if want check; then
	mb=$BENCH_CHECK_MB
	n=$BENCH_CHECK_ALIASES
	log "check: --deep of a $mb MiB alias, shallow of $n aliases"
	f=$work/check.bin
	head -c $((mb << 20)) /dev/urandom >"$f"
	"${dxf[@]}" push-blob --no-digest-cache bench/check "$f" @big >/dev/null
	rm -f "$f"
	load=$(cut -d' ' -f1 /proc/loadavg)
	read -r ps pr < <(timed /dev/null "${dxf[@]}" pull-blob bench/check @big)
	read -r cs cr < <(timed "$work/out" "${dxf[@]}" check --deep bench/check big)
	grep -q ': 0 problems$' "$work/out" || die "check --deep found problems: $(cat "$work/out")"
	# n aliases, each of its own small blob (made, not timed).
	mkdir -p "$work/many"
	for ((i = 0; i < n; i++)); do printf 'check %d\n' "$i" >"$work/many/$i"; done
	(cd "$work/many" && "${dxf[@]}" push-blob --no-digest-cache --jobs 16 bench/checkmany $(seq 0 $((n - 1)))) >"$work/digests"
	[ "$(wc -l <"$work/digests")" -eq "$n" ] || die "pushing $n small blobs"
	mtype=application/vnd.docker.distribution.manifest.v2+json
	i=0
	while read -r d; do
		sz=$(stat -c %s "$work/many/$i")
		printf '{"config": {"digest": "%s", "mediaType": "application/vnd.docker.container.image.v1+json", "size": %d}, "layers": [{"digest": "%s", "mediaType": "application/octet-stream", "size": %d}], "mediaType": "%s", "schemaVersion": 2}' \
			"$d" "$sz" "$d" "$sz" "$mtype" >"$work/many/m$i.json"
		printf 'url = "%s/v2/bench/checkmany/manifests/a%d"\nupload-file = "%s"\n' "$url" "$i" "$work/many/m$i.json"
		printf 'url = "%s/v2/bench/checkmany/blobs/%s"\n' "$url" "$d" >>"$work/heads.curlrc"
		i=$((i + 1))
	done <"$work/digests" >"$work/aliases.curlrc"
	curl -sSf --no-progress-meter --parallel --parallel-max 16 -H "Content-Type: $mtype" -o /dev/null -K "$work/aliases.curlrc" || die "creating $n aliases"
	cat >"$work/baseline.sh" <<-EOF
		set -e
		${dxf[*]} list-aliases bench/checkmany >"$work/listed"
		curl -sSf --no-progress-meter --parallel --parallel-max 8 --head -o /dev/null -K "$work/heads.curlrc"
	EOF
	sload=$(cut -d' ' -f1 /proc/loadavg)
	read -r bs br < <(timed /dev/null bash "$work/baseline.sh")
	[ "$(wc -l <"$work/listed")" -eq "$n" ] || die "list-aliases listed $(wc -l <"$work/listed")"
	read -r ss sr < <(timed "$work/out" "${dxf[@]}" check bench/checkmany)
	grep -q "^checked $n aliases, .*: 0 problems$" "$work/out" || die "check of $n aliases: $(cat "$work/out")"
	log "  deep check $cs s vs verified pull $ps s; shallow check of $n aliases $ss s vs list + curl HEADs $bs s"
	{
		printf '## check\n\n'
		printf 'Single runs. `dxf check --deep` re-reads and hashes every blob of the alias (one blob of %s MiB here); the baseline is a verified pull of the same alias to /dev/null. Load average %s at the start.\n\n' "$mb" "$load"
		printf '| | s | Ratio | Peak RSS MiB |\n|---|---:|---:|---:|\n'
		printf '| dxf pull-blob @big > /dev/null (verified) | %s | 1.00× | %s |\n' "$ps" "$pr"
		printf '| dxf check --deep big | %s | %s× | %s |\n\n' "$cs" "$(ratio "$cs" "$ps")" "$cr"
		printf 'Shallow `dxf check` of %s aliases, each of its own blob (it reads every manifest, then HEADs every blob, --jobs at a time), against `dxf list-aliases` plus one HEAD per blob by curl (`--parallel --parallel-max 8`, the digests known beforehand: no manifest is read). Load average %s at the start.\n\n' "$n" "$sload"
		printf '| | s | Ratio | Peak RSS MiB |\n|---|---:|---:|---:|\n'
		printf '| dxf list-aliases + curl HEAD per blob | %s | 1.00× | %s |\n' "$bs" "$br"
		printf '| dxf check | %s | %s× | %s |\n\n' "$ss" "$(ratio "$ss" "$bs")" "$sr"
	} >>"$md"
	rm -rf "$work/many"
fi

# --- layout -----------------------------------------------------------------
if want layout; then
	mb=$BENCH_LAYOUT_MB
	log "layout: push and verified pull of $mb MiB on an OCI image layout, $BENCH_LAYOUT_RUNS runs"
	f=$work/l.bin
	head -c $((mb << 20)) /dev/urandom >"$f"
	sync
	# median FILE: the median of the numbers in FILE, one a line.
	median() { sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
	: >"$work/l.push"
	: >"$work/l.pull"
	: >"$work/l.pushd"
	: >"$work/l.pulld"
	rows=
	for run in $(seq 1 "$BENCH_LAYOUT_RUNS"); do
		load=$(cut -d' ' -f1 /proc/loadavg)
		# Each run times the limits and dxf one after the other, so the
		# ratios compare times taken under the same load.
		read -r hs _ < <(timed "$work/out" "$work/gosha256" "$f")
		d=sha256:$(cut -d' ' -f1 "$work/out")
		# Every command writes into page cache freed just before, not into
		# memory the machine has not handed out yet (on a VM that costs up
		# to twice the time): three times the file is written and deleted
		# first, and a copy is deleted once timed. The disk is then let
		# settle (the file system may discard freed blocks, mount option
		# discard).
		settle() { rm -rf "$@"; sync; sleep 2; }
		head -c $((3 * mb << 20)) /dev/zero >"$work/l.scratch"
		settle "$work/l.scratch"
		read -r cs _ < <(timed /dev/null cp "$f" "$work/l.copy")
		settle "$work/l.copy"
		read -r css _ < <(timed /dev/null sh -c 'cp "$1" "$2" && sync "$2"' sh "$f" "$work/l.copy2")
		settle "$work/l.copy2"
		base=$(awk -v a="$cs" -v b="$hs" 'BEGIN { printf "%.3f", a + b }')
		based=$(awk -v a="$css" -v b="$hs" 'BEGIN { printf "%.3f", a + b }')
		read -r ps pr < <(timed "$work/out" "${dxf[@]}" push-blob --no-digest-cache "oci:$work/layout" "$f")
		[ "$(cat "$work/out")" = "$d" ] || die "dxf pushed $(cat "$work/out") to the layout, not $d"
		sync
		sleep 2
		read -r ls lr < <(timed /dev/null "${dxf[@]}" pull-blob -o "$work/l.pulled" "oci:$work/layout" "$d")
		cmp "$f" "$work/l.pulled" || die "the file pulled from the layout differs"
		settle "$work/l.pulled" "$work/layout"
		echo "$(ratio "$ps" "$base")" >>"$work/l.push"
		echo "$(ratio "$ls" "$base")" >>"$work/l.pull"
		echo "$(ratio "$ps" "$based")" >>"$work/l.pushd"
		echo "$(ratio "$ls" "$based")" >>"$work/l.pulld"
		log "  run $run: push $ps s ($pr MiB), pull -o $ls s ($lr MiB); cp $cs s (with sync $css s), sha256 $hs s; load $load"
		rows+=$(printf '| %s | %s | %s | %s | %s | %s | %s× | %s× | %s | %s | %s× | %s× | %s |' "$run" "$cs" "$css" "$hs" "$ps" "$pr" \
			"$(ratio "$ps" "$base")" "$(ratio "$ps" "$based")" "$ls" "$lr" "$(ratio "$ls" "$base")" "$(ratio "$ls" "$based")" "$load")$'\n'
	done
	log "  median ratios to cp + sha256: push $(median "$work/l.push")×, pull -o $(median "$work/l.pull")×"
	{
		printf '## OCI image layout: push and verified pull of %s MiB, no registry\n\n' "$mb"
		printf '%s runs; each times, one after the other, Go'"'"'s SHA-256 of the file, `cp` of it, `cp` then `sync` of the copy, `dxf push-blob --no-digest-cache oci:DIR FILE` into a new layout, and `dxf pull-blob -o FILE oci:DIR DIGEST`; load average at each run'"'"'s start in the last column. Every command writes into page cache freed just before (each run first writes and deletes three times the file, and each copy is deleted once timed, then synced and left 2 s): on this VM, memory not handed out before costs up to twice the time to write into, and the commands timed last would pay it. The limit is copying the file plus hashing it, one after the other: what a push into the layout (hashed while written, synced, renamed) and a verified pull into a file (written, hashed, synced, renamed) must each do. The goal is at most 1.1× of `cp` + SHA-256; as `cp` leaves its copy in the page cache while dxf syncs before it renames, the ratio to `cp` + `sync` + SHA-256 (the same work, durable) is given too.\n\n' "$BENCH_LAYOUT_RUNS"
		printf '| Run | cp s | cp + sync s | SHA-256 s | Push s | Push peak RSS MiB | Push / (cp + SHA-256) | Push / (cp + sync + SHA-256) | Pull -o s | Pull peak RSS MiB | Pull / (cp + SHA-256) | Pull / (cp + sync + SHA-256) | Load |\n'
		printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n'
		printf '%s' "$rows"
		printf '| median | | | | | | %s× | %s× | | | %s× | %s× | |\n\n' "$(median "$work/l.push")" "$(median "$work/l.pushd")" "$(median "$work/l.pull")" "$(median "$work/l.pulld")"
	} >>"$md"
	rm -rf "$f" "$work/layout"
fi

# --- tree -------------------------------------------------------------------------
# tree_run LABEL HOST REGDIR PID: the tree steps against the registry at
# HOST (its directory REGDIR, its localregistry's process PID), appended
# to $md under LABEL.
tree_run() {
	local label=$1 thost=$2 tregdir=$3 tpid=$4
	local n=$BENCH_TREE_FILES dir=$work/tree files=() s k j f
	log "tree ($label): a directory of $n files of 4 KiB"
	# 100 files per directory, each directory's files cut from one stream
	# (two processes per directory, not one per file).
	rm -rf "$dir"
	for ((s = 0; s * 100 < n; s++)); do
		k=$((n - s * 100 < 100 ? n - s * 100 : 100))
		mkdir -p "$dir/d$s"
		head -c $((k * 4096)) /dev/urandom | split -a 3 -d -b 4096 - "$dir/d$s/f"
		for ((j = 0; j < k; j++)); do
			printf -v f 'd%d/f%03d' "$s" "$j"
			files+=("$f")
		done
	done
	local reglog=$tregdir/registry.log regp
	regp=$(ps -o pid= --ppid "$tpid" | tr -d ' ' | head -n 1)
	count() { grep -c "\"$1 /v2/$2" "$reglog" || true; }
	regcpu() { sed 's/.*) //' "/proc/$regp/stat" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / hz }'; }
	# ctimed VAR OUT CMD...: timed, and VAR gets the registry's CPU seconds.
	ctimed() {
		local c0 c1 v=$1
		shift
		c0=$(regcpu)
		timed "$@"
		c1=$(regcpu)
		printf -v "$v" '%s' "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", b - a }')"
	}
	local tdxf=(env "DXF_HOST=$thost" "${dxf[@]}")
	local load dps dpr ops opr fps fpr f32ps dpc opc fpc f32pc rps rpr uploads heads mputs posts0 heads0 mput0
	local dls dlr ols olr fls f32ls dlc olc flc flc0 d2s
	load=$(cut -d' ' -f1 /proc/loadavg)
	# oras first: a registry holding more blobs does each request a little
	# slower, which then counts against dxf.
	cd "$dir"
	ctimed opc "$work/out" "$ORAS" push --plain-http "$thost/bench/tree-oras:t" "${files[@]}" >"$work/t.out"
	read -r ops opr <"$work/t.out"
	cd "$root"
	ctimed dpc "$work/out" "${tdxf[@]}" push-blob bench/tree "$dir" @t >"$work/t.out"
	read -r dps dpr <"$work/t.out"
	# The floor pushes new blobs (-salt), as dxf's first push did.
	ctimed fpc "$work/out" "$work/floor" push -jobs "$BENCH_FLOOR_JOBS" -salt 1 "$thost/bench/tree-floor:t" "$dir" >"$work/t.out"
	read -r fps fpr <"$work/t.out"
	ctimed f32pc "$work/out" "$work/floor" push -jobs 32 -salt 2 "$thost/bench/tree-floor32:t" "$dir" >"$work/t.out"
	read -r f32ps _ <"$work/t.out"
	# One file changed: one blob and one manifest should go up.
	printf 'changed' | dd of="$dir/${files[$((n / 2))]}" bs=1 count=7 conv=notrunc status=none
	posts0=$(count POST bench/tree/blobs/uploads/)
	heads0=$(count HEAD bench/tree/blobs/)
	mput0=$(count PUT bench/tree/manifests/)
	read -r rps rpr < <(timed "$work/out" "${tdxf[@]}" push-blob bench/tree "$dir" @t)
	uploads=$(($(count POST bench/tree/blobs/uploads/) - posts0))
	heads=$(($(count HEAD bench/tree/blobs/) - heads0))
	mputs=$(($(count PUT bench/tree/manifests/) - mput0))
	ctimed olc "$work/out" "$ORAS" pull --plain-http -o "$work/tree-oras" "$thost/bench/tree-oras:t" >"$work/t.out"
	read -r ols olr <"$work/t.out"
	[ "$(find "$work/tree-oras" -type f | wc -l)" -eq "$n" ] || die "oras pulled $(find "$work/tree-oras" -type f | wc -l) files"
	ctimed dlc "$work/out" "${tdxf[@]}" pull-blob --dir "$work/tree-dxf" bench/tree @t >"$work/t.out"
	read -r dls dlr <"$work/t.out"
	[ "$(find "$work/tree-dxf" -type f | wc -l)" -eq "$n" ] || die "dxf pulled $(find "$work/tree-dxf" -type f | wc -l) files"
	for j in "$BENCH_FLOOR_JOBS" 32; do
		rm -rf "$work/tree-floor"
		ctimed flc "$work/out" "$work/floor" pull -jobs "$j" "$thost/bench/tree:t" "$work/tree-floor" >"$work/t.out"
		[ "$(find "$work/tree-floor" -type f | wc -l)" -eq "$n" ] || die "floor pulled $(find "$work/tree-floor" -type f | wc -l) files"
		if [ "$j" = 32 ]; then read -r f32ls _ <"$work/t.out"; else read -r fls _ <"$work/t.out"; flc0=$flc; fi
	done
	# Pulling again into the up-to-date directory fetches nothing.
	read -r d2s _ < <(timed "$work/out" "${tdxf[@]}" pull-blob --dir "$work/tree-dxf" bench/tree @t)
	log "  push dxf $dps s oras $ops s floor $fps s (32 at once $f32ps s, registry CPU $f32pc s); one changed: $rps s, $uploads uploads, $mputs manifest PUTs, $heads HEADs; pull dxf $dls s oras $ols s floor $fls s (32 at once $f32ls s), again $d2s s"
	{
		printf '### %s\n\n' "$label"
		printf '| Step | dxf s | oras s | dxf / oras | dxf peak RSS MiB | oras peak RSS MiB | floor s (%s / 32 at once) | dxf / floor | registry CPU s: dxf / oras / floor |\n' "$BENCH_FLOOR_JOBS"
		printf '|---|---:|---:|---:|---:|---:|---:|---:|---|\n'
		printf '| push | %s | %s | %s× | %s | %s | %s / %s | %s× | %s / %s / %s |\n' "$dps" "$ops" "$(ratio "$dps" "$ops")" "$dpr" "$opr" "$fps" "$f32ps" "$(ratio "$dps" "$fps")" "$dpc" "$opc" "$fpc"
		printf '| re-push, one file changed: %s upload(s), %s manifest PUT(s), %s HEAD(s) | %s | | | %s | | | | |\n' "$uploads" "$mputs" "$heads" "$rps" "$rpr"
		printf '| pull | %s | %s | %s× | %s | %s | %s / %s | %s× | %s / %s / %s |\n' "$dls" "$ols" "$(ratio "$dls" "$ols")" "$dlr" "$olr" "$fls" "$f32ls" "$(ratio "$dls" "$fls")" "$dlc" "$olc" "$flc0"
		printf '| pull again, up to date | %s | | | | | | | |\n\n' "$d2s"
		printf 'Load %s at the start.\n\n' "$load"
	} >>"$md"
	rm -rf "$dir" "$work/tree-dxf" "$work/tree-oras" "$work/tree-floor"
}

if want tree; then
	{
		printf '## A directory of %s files of 4 KiB\n\n' "$BENCH_TREE_FILES"
		printf 'Single runs. Push: `oras push <repo>:<tag> <the %s files>`, then `dxf push-blob <repo> DIR @alias` (a data set: one blob per file, OCI form; second, so that the registry'"'"'s growth counts against it); re-push after one file changed, with uploads (POST …/blobs/uploads/), HEADs and manifest PUTs counted in the registry'"'"'s log; pull: `oras pull -o`, then `dxf pull-blob --dir`, then dxf again into the up-to-date directory. Every step starts after a `sync`.\n\n' "$BENCH_TREE_FILES"
		printf 'floor: `hack/floor`, the same wire work in raw net/http and nothing else (push: POST and a monolithic PUT per file, of new blobs; pull: one GET per file of the dxf alias, checked against its digest, written to its file), %s and 32 files at once. Registry CPU: what the registry used during the step (user + system, from /proc).\n\n' "$BENCH_FLOOR_JOBS"
		printf 'Twice: against the registry storing on disk, as every other scenario here, and against a second one storing in a RAM file system (`/dev/shm`). On disk, Distribution 3 syncs four files for each blob pushed (the upload'"'"'s start time and hash state, the data, the repository'"'"'s link) and allocates a 4 MiB read buffer for each blob served: most of the time is the registry'"'"'s, the same for every client (the floor shows it). In RAM the syncs cost nothing and what the clients do shows.\n\n'
	} >>"$md"
	tree_run "Registry storing on disk" "$host" "$regdir" "$reg_pid"
	purge_all
	if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt $((2 << 20)) ]; then
		ramtmp=$(mktemp -d /dev/shm/dxf-bench-reg.XXXXXX)
		start_registry "$ramtmp" "$work/env-ram" ram_pid
		ramhost=$(. "$work/env-ram" && echo "$DXF_HOST")
		tree_run "Registry storing in RAM (/dev/shm)" "$ramhost" "$(echo "$ramtmp"/registrytest-*)" "$ram_pid"
		kill "$ram_pid" 2>/dev/null || true
		wait "$ram_pid" 2>/dev/null || true
		ram_pid=
		rm -rf "$ramtmp"
		ramtmp=
	else
		log "tree: no RAM file system with 2 GiB free at /dev/shm; the tree ran against the disk registry only"
		printf '(No RAM file system with 2 GiB free at `/dev/shm` on this machine: the disk registry only.)\n\n' >>"$md"
	fi
fi

elapsed=$(($(date +%s) - started))
mkdir -p "$BENCH_OUT"
{
	printf '# Scale benchmarks\n\n'
	printf 'Written by `hack/bench-scale.sh` (run by `make bench`, or alone with `make bench-scale`; `BENCH_SCALE=growth,blobs,tags,incremental,layout,tree,check` selects scenarios) on %s in %d min %d s, against a local Distribution registry %s on the same machine (%s, %s cores, shared with other work: load averages are given beside the figures). Load average at the start %s, at the end %s.\n\n' \
		"$(date -u +%Y-%m-%d)" $((elapsed / 60)) $((elapsed % 60)) "$REGISTRY_VERSION" "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" "$(nproc)" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)"
	cat "$md"
} >"$BENCH_OUT/benchmarks-scale.md"
log "done in $((elapsed / 60)) min $((elapsed % 60)) s: $BENCH_OUT/benchmarks-scale.md"
