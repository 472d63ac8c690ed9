#!/usr/bin/env bash
# mount-bench.sh: the data-path figures of `weed mount` (issue 8) against
# local disk, measured in one run on this machine:
#   write: dd 1 GiB bs=1M conv=fsync, local file vs a file in the mount,
#          $REPS rounds (default 3) in alternating order, medians compared,
#          each after priming the page cache's memory (see prime);
#   read:  the same files after drop_caches (and, for the mount, an
#          unmount + mount so its own caches are cold), bs=1M;
#   RSS of the mount process idle, and its peak over the copies.
# Needs root (drop_caches), fusermount3 and about 3 GiB free in $TMPDIR.
# Usage: scripts/mount-bench.sh [size_mib] (default 1024); extra mount
# flags in $MOUNT_FLAGS; a bound on the ports in $PORT_BASE.
set -euo pipefail

size=${1:-1024}
base=${PORT_BASE:-19300}
mport=$((base + 33)) vport=$((base + 80)) fport=$((base + 88))
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/weed-mount-bench.XXXXXX")
mnt=$work/mnt
mkdir -p "$work/data" "$work/filerdb" "$mnt"
bin=$work/weed
server_pid= mount_pid=

cleanup() {
	set +e
	if [ -n "$mount_pid" ]; then
		fusermount3 -u "$mnt" 2>/dev/null
		kill "$mount_pid" 2>/dev/null
		wait "$mount_pid" 2>/dev/null
	fi
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && go build -o "$bin" .)

"$bin" server -dir="$work/data" -ip=127.0.0.1 -master.port=$mport -volume.port=$vport \
	-filer -filer.port=$fport -filer.dir="$work/filerdb" -master.mdir="$work/mdir" \
	-master.volumeSizeLimitMB=2048 -v=warn >"$work/server.log" 2>&1 &
server_pid=$!
# Ready once the master assigns (a leader, a volume server heard) and the
# filer answers.
for _ in $(seq 1 300); do
	if curl -fs "http://127.0.0.1:$mport/dir/assign" -o /dev/null &&
		curl -fs "http://127.0.0.1:$fport/" -o /dev/null -H 'Accept: application/json'; then
		break
	fi
	sleep 0.1
done

start_mount() {
	# shellcheck disable=SC2086
	"$bin" mount -filer=127.0.0.1:$fport -master=127.0.0.1:$mport -dir="$mnt" -v=warn $MOUNT_FLAGS \
		>>"$work/mount.log" 2>&1 &
	mount_pid=$!
	for _ in $(seq 1 100); do
		if mountpoint -q "$mnt"; then return; fi
		sleep 0.1
	done
	echo "mount did not come up:" >&2
	cat "$work/mount.log" >&2
	exit 1
}

stop_mount() {
	fusermount3 -u "$mnt"
	wait "$mount_pid" || true
	mount_pid=
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$mount_pid/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$mount_pid/status"; }

# dd_rate prints MB/s (10^6 bytes) from dd's summary line on stdin.
dd_rate() { awk '/bytes/ && /copied/ {for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) t = $(i-1); printf "%.0f", $1 / t / 1e6}'; }

drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# prime MiB: writes and removes a scratch file of MiB, so the memory the
# next writer gets was touched just now. This VM reports free memory to
# its host (page_reporting) after about 2 s, and touching reported memory
# again costs up to ten times the copy itself; without priming, whichever
# side writes first after a pause pays for it (local dd swung from 0.22 to
# 2.6 CPU-s per GiB). PRIME=0 turns it off.
prime() {
	[ "${PRIME:-1}" = 0 ] && return
	dd if=/dev/zero of="$work/prime" bs=1M count="$1" status=none
	rm -f "$work/prime"
}

# CPU seconds a process has used (user + system).
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

# run_dd ARGS...: runs dd; sets rate (MB/s) and the CPU seconds dd, the
# mount and the server process (master, volume server, filer) used.
run_dd() {
	local m0 s0 out
	m0=$(cpu_s "$mount_pid") s0=$(cpu_s "$server_pid")
	out=$(/usr/bin/time -f "%U %S" -o "$work/time" dd "$@" 2>&1)
	rate=$(echo "$out" | dd_rate)
	cpu_dd=$(awk '{printf "%.2f", $1 + $2}' "$work/time")
	cpu_mount=$(awk -v a="$m0" -v b="$(cpu_s "$mount_pid")" 'BEGIN {printf "%.2f", b - a}')
	cpu_server=$(awk -v a="$s0" -v b="$(cpu_s "$server_pid")" 'BEGIN {printf "%.2f", b - a}')
}

MOUNT_FLAGS=${MOUNT_FLAGS:-}
start_mount
sleep 1
idle0=$(rss_kb)

local_file=$work/local.bin
load=$(cut -d' ' -f1 /proc/loadavg)
# Writes: REPS rounds (default 3), alternating which side goes first, as
# a VM's page cache costs more the first time memory is touched after it
# was given back to the host (a fixed order favours the second writer);
# the medians are compared. Each round writes over a removed file after
# drop_caches, the same for both sides.
reps=${REPS:-3}
lws=() mws=() lcpus=() mcpus=()
write_local() {
	rm -f "$local_file"
	drop
	prime $((size + 256))
	run_dd if=/dev/zero of="$local_file" bs=1M count="$size" conv=fsync
	lws+=("$rate") lcpus+=("$cpu_dd")
}
write_mount() {
	rm -f "$mnt/big.bin"
	drop
	prime $((size + 256))
	run_dd if=/dev/zero of="$mnt/big.bin" bs=1M count="$size" conv=fsync
	mws+=("$rate") mcpus+=("dd $cpu_dd mount $cpu_mount server $cpu_server")
}
for i in $(seq 1 "$reps"); do
	if [ $((i % 2)) = 1 ]; then write_local; write_mount; else write_mount; write_local; fi
	printf "write round %d: local %5d MB/s (CPU s: dd %s)  mount %5d MB/s (CPU s: %s)\n" \
		"$i" "${lws[-1]}" "${lcpus[-1]}" "${mws[-1]}" "${mcpus[-1]}"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
lw=$(median "${lws[@]}") mw=$(median "${mws[@]}")
hwm_w=$(hwm_kb)

stop_mount
drop
start_mount
prime $((2 * size + 256))
run_dd if="$local_file" of=/dev/null bs=1M
lr=$rate lr_cpu=$cpu_dd
drop
# The mount's read fills two page caches: the server's of .dat and the
# kernel's of the mounted file.
prime $((2 * size + 256))
run_dd if="$mnt/big.bin" of=/dev/null bs=1M
mr=$rate mr_cpu="dd $cpu_dd mount $cpu_mount server $cpu_server"
hwm_r=$(hwm_kb)
got=$(stat -c %s "$mnt/big.bin")
if [ "$got" != $((size << 20)) ]; then
	echo "mount file is $got bytes, want $((size << 20))" >&2
	exit 1
fi
sleep 17 # the mount trims its caches after 10 s without I/O (checked every 5 s)
idle1=$(rss_kb)

awk -v lw="$lw" -v mw="$mw" -v lr="$lr" -v mr="$mr" -v size="$size" -v load="$load" -v ncpu="$(nproc)" \
	-v lr_cpu="$lr_cpu" -v mr_cpu="$mr_cpu" \
	-v i0="$idle0" -v i1="$idle1" -v hw="$hwm_w" -v hr="$hwm_r" 'BEGIN {
	printf "size             %d MiB, bs=1M; load average %s on %d CPUs at the start\n", size, load, ncpu
	printf "write conv=fsync local %5d MB/s  mount %5d MB/s  ratio %3.0f%% (goal >= 85%%; medians of the rounds above)\n", lw, mw, 100 * mw / lw
	printf "first read       local %5d MB/s  mount %5d MB/s  ratio %3.0f%% (goal mount >= 900 MB/s)\n", lr, mr, 100 * mr / lr
	printf "                 CPU s: local dd %s; mount path: %s\n", lr_cpu, mr_cpu
	printf "mount RSS        idle %.1f MB at start, %.1f MB after the copies; peak %.1f MB writing, %.1f MB after reading\n", i0/1024, i1/1024, hw/1024, hr/1024
}'
