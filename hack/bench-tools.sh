# Sourced by hack/bench.sh, bench-scale.sh and bench-copy.sh (which define log and die,
# and set BENCH_TOOLS_DIR): the pinned peers and how they are installed.

ORAS_MODULE=oras.land/oras/cmd/oras
ORAS_VERSION=v1.3.6
CRANE_MODULE=github.com/google/go-containerregistry/cmd/crane
CRANE_VERSION=v0.22.1
REGISTRY_VERSION=$(sed -n 's/^const RegistryVersion = "\(.*\)"$/\1/p' pkg/registrytest/binary.go)

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
