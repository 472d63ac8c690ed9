#!/usr/bin/env bash
# mount-tar-bench.sh: the metadata-path figures of `weed mount` (issue 8)
# against local disk, measured in one run on this machine: `tar xf` of a
# tar of a source tree (default /usr/local/go/src) into a local folder and
# into the mount, REPS times each (default 3), then once each `tar cf` of
# the extracted tree, `cp -r` of the source tree and `diff -r` of the copy
# against the original, local and mount.
# Needs fusermount3 and about 1 GiB free in $TMPDIR.
# Usage: scripts/mount-tar-bench.sh [source_dir]; $REPS, $PORT_BASE (ports
# PORT_BASE+33, +80, +88; default 19500), extra mount flags in $MOUNT_FLAGS,
# $PROFILE=1 records `perf` CPU profiles (perf.mount.data, perf.server.data)
# of the mount and server processes during the first mount extraction in
# $PROFILE_DIR (default: the current folder). $LOG_DIR keeps the mount's and
# server's logs (with MOUNT_FLAGS=-v=info the mount logs its operation
# counts when it ends). TAR_ONLY=1 skips the runs after the extractions.
set -euo pipefail

src=${1:-/usr/local/go/src}
reps=${REPS:-3}
base=${PORT_BASE:-19500}
mport=$((base + 33)) vport=$((base + 80)) fport=$((base + 88))
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/weed-tar-bench.XXXXXX")
mnt=$work/mnt
mkdir -p "$work/data" "$work/filerdb" "$work/local" "$mnt"
bin=$work/weed
server_pid= mount_pid=
profile_dir=${PROFILE_DIR:-$PWD}

cleanup() {
	set +e
	if [ -n "$mount_pid" ]; then
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null
		kill "$mount_pid" 2>/dev/null
		wait "$mount_pid" 2>/dev/null
	fi
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if [ -n "${LOG_DIR:-}" ]; then cp "$work"/*.log "$LOG_DIR"/; fi
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && go build -o "$bin" .)

"$bin" server -dir="$work/data" -ip=127.0.0.1 -master.port=$mport -volume.port=$vport \
	-filer -filer.port=$fport -filer.dir="$work/filerdb" -master.mdir="$work/mdir" \
	-master.volumeSizeLimitMB=1024 -v=warn >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
	if curl -fs "http://127.0.0.1:$fport/" -o /dev/null -H 'Accept: application/json'; then break; fi
	sleep 0.1
done
curl -fs "http://127.0.0.1:$fport/" -o /dev/null -H 'Accept: application/json' ||
	{ echo "filer did not come up:" >&2; cat "$work/server.log" >&2; exit 1; }

MOUNT_FLAGS=${MOUNT_FLAGS:-}
# shellcheck disable=SC2086
"$bin" mount -filer=127.0.0.1:$fport -master=127.0.0.1:$mport -dir="$mnt" -v=warn $MOUNT_FLAGS \
	>>"$work/mount.log" 2>&1 &
mount_pid=$!
for _ in $(seq 1 100); do
	if mountpoint -q "$mnt"; then break; fi
	sleep 0.1
done
mountpoint -q "$mnt" || { echo "mount did not come up:" >&2; cat "$work/mount.log" >&2; exit 1; }

tar cf "$work/src.tar" -C "$(dirname "$src")" "$(basename "$src")"
entries=$(tar tf "$work/src.tar" | wc -l)

# secs runs a command and prints its wall time in seconds.
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}'
}

# CPU seconds a process has used (user + system).
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
diff_s() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }

ratio() { awk -v l="$1" -v m="$2" 'BEGIN {printf "%.1fx", m / l}'; }

echo "tar xf of $src ($entries entries), local vs mount, $reps runs (alternating which goes first)"
tar_local() { prime 512; l=$(secs tar xf "$work/src.tar" -C "$work/local/x$1"); }
tar_mount() {
	local i=$1
	if [ "${PROFILE:-}" = 1 ] && [ "$i" = 1 ]; then
		perf record -q -F 499 -g -p "$mount_pid" -o "$profile_dir/perf.mount.data" 2>/dev/null &
		pm=$!
		perf record -q -F 499 -g -p "$server_pid" -o "$profile_dir/perf.server.data" 2>/dev/null &
		ps=$!
		sleep 0.5
	fi
	prime 512
	m0=$(cpu_s "$mount_pid") s0=$(cpu_s "$server_pid")
	m=$(secs tar xf "$work/src.tar" -C "$mnt/x$i")
	m1=$(cpu_s "$mount_pid") s1=$(cpu_s "$server_pid")
	if [ "${PROFILE:-}" = 1 ] && [ "$i" = 1 ]; then
		kill -INT "$pm" "$ps"
		wait "$pm" "$ps" || true
	fi
}
# prime MiB: writes and removes a scratch file of MiB, so the memory the
# next extraction gets was touched just now (this VM reports free memory
# to its host after about 2 s, and touching it again costs several times
# the copy: local tar swung from 0.4 to 3.9 s). PRIME=0 turns it off.
prime() {
	[ "${PRIME:-1}" = 0 ] && return
	dd if=/dev/zero of="$work/prime" bs=1M count="$1" status=none
	rm -f "$work/prime"
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
ls_=() ms_=()
for i in $(seq 1 "$reps"); do
	mkdir "$work/local/x$i" "$mnt/x$i"
	# The first writer after idle touches memory the VM gave back to the
	# host, which costs more: alternate who goes first.
	if [ $((i % 2)) = 1 ]; then tar_local "$i"; tar_mount "$i"; else tar_mount "$i"; tar_local "$i"; fi
	ls_+=("$l") ms_+=("$m")
	printf "run %d: tar xf  local %6.2f s  mount %6.2f s  ratio %s (goal <= 5x)\n" "$i" "$l" "$m" "$(ratio "$l" "$m")"
	printf "       CPU s during the mount's run: mount %s, server %s\n" "$(diff_s "$m0" "$m1")" "$(diff_s "$s0" "$s1")"
done
if [ "$reps" -gt 1 ]; then
	l=$(median "${ls_[@]}") m=$(median "${ms_[@]}")
	printf "median: tar xf  local %6.2f s  mount %6.2f s  ratio %s (goal <= 5x)\n" "$l" "$m" "$(ratio "$l" "$m")"
fi

if [ -n "${TAR_ONLY:-}" ]; then exit 0; fi
name=$(basename "$src")
l=$(secs tar cf "$work/local.tar" -C "$work/local/x1" "$name")
m=$(secs tar cf "$work/mount.tar" -C "$mnt/x1" "$name")
printf "tar cf (of x1)  local %6.2f s  mount %6.2f s  ratio %s\n" "$l" "$m" "$(ratio "$l" "$m")"
l=$(secs cp -r "$src" "$work/local/cp")
m=$(secs cp -r "$src" "$mnt/cp")
printf "cp -r           local %6.2f s  mount %6.2f s  ratio %s\n" "$l" "$m" "$(ratio "$l" "$m")"
l=$(secs diff -r "$src" "$work/local/cp")
m=$(secs diff -r "$src" "$mnt/cp")
printf "diff -r         local %6.2f s  mount %6.2f s  ratio %s\n" "$l" "$m" "$(ratio "$l" "$m")"
