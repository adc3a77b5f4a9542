# Sourced by hack/bench.sh and hack/bench-copy.sh (which define log and die,
# and set BENCH_TOOLS_DIR).

# install_tool NAME MODULE VERSION prints the path of NAME, installing it into
# $BENCH_TOOLS_DIR/NAME-VERSION first if needed.
install_tool() {
	local name=$1 mod=$2 ver=$3 dir tmp
	dir=$BENCH_TOOLS_DIR/$name-$ver
	if [ ! -x "$dir/$name" ]; then
		log "installing $mod@$ver into $dir"
		mkdir -p "$dir"
		tmp=$(mktemp -d "$dir/.install.XXXXXX")
		if ! (cd "$tmp" && GOBIN=$tmp GOFLAGS='' GOWORK=off CGO_ENABLED=0 go install "$mod@$ver") >&2; then
			rm -rf "$tmp"
			die "go install $mod@$ver"
		fi
		mv "$tmp/$name" "$dir/$name"
		rmdir "$tmp"
	fi
	printf '%s\n' "$dir/$name"
}
