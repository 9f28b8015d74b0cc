#!/usr/bin/env bash
# build-fabric.sh builds the Hyperledger Fabric v3.1.1 command-line binaries
# the local network runs (peer, orderer, osnadmin, configtxgen, cryptogen,
# configtxlator, discover) from the pinned tools module in network/tools,
# stamped -X …/common/metadata.Version=3.1.1 (TestFabricVersion checks that
# `peer version` and `orderer version` say so), and copies
# Fabric's default configuration (sampleconfig) next to them:
#
#   .cache/fabric/3.1.1/bin/{peer,orderer,...}
#   .cache/fabric/3.1.1/config/{core.yaml,orderer.yaml,configtx.yaml,msp/}
#   .cache/fabric/3.1.1/stamp      what the binaries were built from
#
# A second run with the same tools go.mod/go.sum and Go version rebuilds
# nothing. Progress goes to stderr. Usage: network/build-fabric.sh [--force]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/network/tools"
version=3.1.1
dest="${FABRIC_DIR:-$root/.cache/fabric/$version}"
bins=(peer orderer osnadmin configtxgen cryptogen configtxlator discover)
go="${GO:-go}"

stamp_now() {
	{
		sha256sum "$tools/go.mod" "$tools/go.sum" | awk '{print $1}'
		"$go" env GOVERSION GOOS GOARCH
		echo "version=$version bins=${bins[*]}"
	} | sha256sum | awk '{print $1}'
}

want="$(stamp_now)"
if [[ "${1:-}" != "--force" && -f "$dest/stamp" && "$(cat "$dest/stamp")" == "$want" ]]; then
	ok=1
	for b in "${bins[@]}"; do [[ -x "$dest/bin/$b" ]] || ok=0; done
	[[ -f "$dest/config/core.yaml" && -f "$dest/config/orderer.yaml" ]] || ok=0
	if ((ok)); then
		echo "fabric $version: up to date in $dest" >&2
		exit 0
	fi
fi

echo "fabric $version: building ${bins[*]} into $dest/bin (cold build takes a few minutes)" >&2
mkdir -p "$dest"
rm -f "$dest/stamp"
tmp="$(mktemp -d "$dest/.build.XXXXXX")"
log="$tmp/build.log"
cleanup() { [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

pkgs=()
for b in "${bins[@]}"; do pkgs+=("github.com/hyperledger/fabric/cmd/$b"); done

start=$SECONDS
(
	cd "$tools"
	CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly" exec "$go" build -trimpath -o "$tmp/bin/" \
		-ldflags "-X github.com/hyperledger/fabric/common/metadata.Version=$version" "${pkgs[@]}"
) >"$log" 2>&1 &
pid=$!

# A ticking elapsed line: rewritten in place on a terminal, one line every
# 15 s otherwise (CI logs).
tty=0; [[ -t 2 ]] && tty=1
last=-1
while kill -0 "$pid" 2>/dev/null; do
	el=$((SECONDS - start))
	if ((tty)); then
		printf '\rfabric %s: building... %3ds' "$version" "$el" >&2
	elif ((el / 15 != last)); then
		last=$((el / 15)); echo "fabric $version: building... ${el}s" >&2
	fi
	sleep 1
done
set +e; wait "$pid"; rc=$?; set -e
pid=
((tty)) && printf '\n' >&2
if ((rc != 0)); then
	echo "fabric $version: build failed (exit $rc):" >&2
	cat "$log" >&2
	exit "$rc"
fi

# Default configuration from the same module version, made writable (the
# module cache is read-only).
modcache="$("$go" env GOMODCACHE)"
fabmod="$(cd "$tools" && "$go" list -m -f '{{.Dir}}' github.com/hyperledger/fabric)"
[[ -d "$fabmod/sampleconfig" ]] || { echo "fabric $version: no sampleconfig in $fabmod (GOMODCACHE=$modcache)" >&2; exit 1; }
mkdir -p "$tmp/config"
cp -R "$fabmod/sampleconfig/." "$tmp/config/"
chmod -R u+w "$tmp/config"

rm -rf "$dest/bin" "$dest/config"
mv "$tmp/bin" "$dest/bin"
mv "$tmp/config" "$dest/config"
echo "$want" >"$dest/stamp"
echo "fabric $version: built in $((SECONDS - start))s: $("$dest/bin/peer" version | awk '/Version:/{print $2; exit}')" >&2
