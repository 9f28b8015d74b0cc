#!/usr/bin/env bash
# with-network.sh COMMAND [ARGS...]
#
# Runs COMMAND against a throw-away credit network: brings one up in a
# temporary run folder on its own ports (from 27050, moved up in steps of
# 1000 if busy), exports CREDIT_TEST_PROFILE=<run>/network.json, runs the
# command, and ALWAYS tears the network down and deletes the folder (on
# success, failure, Ctrl-C, INT or TERM; INT and TERM are passed on to the
# command first). The command's exit status is passed through. If the command fails, the node logs are kept in
# ${CREDIT_TEST_LOGS:-.run/test-logs} for the post-mortem.
#
# Used by `make test`: network/with-network.sh go test -tags integration -p 1 ./...
set -euo pipefail

if (($# == 0)); then
	echo "usage: $0 COMMAND [ARGS...]" >&2
	exit 64
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
creditctl="${CREDITCTL:-$root/bin/creditctl}"
base="${CREDIT_TEST_BASE_PORT:-27050}"
logs_keep="${CREDIT_TEST_LOGS:-$root/.run/test-logs}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/credit-test-net.XXXXXX")"
run="$tmp/net"

teardown() {
	local rc=$?
	trap - EXIT INT TERM
	if ((rc != 0)) && [[ -d "$run/logs" ]]; then
		rm -rf "$logs_keep" && mkdir -p "$logs_keep" && cp -R "$run/logs/." "$logs_keep/" &&
			echo "with-network: exit $rc; node logs kept in $logs_keep" >&2
	fi
	if ! "$creditctl" network clean --run "$run" >&2; then
		echo "with-network: network clean failed; stop the processes named in $run/pids by hand" >&2
		((rc == 0)) && rc=1
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
"$creditctl" network up --run "$run" --topology "$root/network/topology.yaml" \
	--base-port "$base" --free-ports >/dev/null
echo "with-network: network up in $((SECONDS - start))s; CREDIT_TEST_PROFILE=$run/network.json" >&2
export CREDIT_TEST_PROFILE="$run/network.json"

# The command runs in its own process group (job control on), so INT or
# TERM sent to this script, or Ctrl-C on its terminal, is passed on to the
# whole command (go test and its test binaries); when it has exited, the
# EXIT trap tears the network down.
set +e
set -m
"$@" &
child=$!
set +m
trap 'kill -INT -- "-$child" 2>/dev/null' INT
trap 'kill -TERM -- "-$child" 2>/dev/null' TERM
while :; do
	wait "$child"
	status=$?
	kill -0 "$child" 2>/dev/null || break # else wait was cut short by a signal
done
exit "$status"
