#!/usr/bin/env bash
# The console as a whole process, on the demo fleet scaled up with --pods: start-up to the first
# full frame, memory, and CPU and bytes written to the terminal while nobody touches it.
#
# Usage: benches/console-perf.sh [PODS] [RUNS] [IDLE_SECONDS]      (defaults: 10000 3 60)
#   needs a release build (cargo build --release), tmux, perl and kubectl.
# Environment:
#   WATCHFLOOR=FILE   the binary (default: $CARGO_TARGET_DIR/release/watchfloor, else target/...)
#   SCENARIO=NAME     the demo's fault scenario (default: the fleet's own, `incident`; `calm`: none)
#   INPROCESS=1       measure `watchfloor demo --pods PODS` instead: the simulated fleet starts in
#                     the console's own process (its start-up is then in the first-frame time, and
#                     its memory and CPU in the figures)
#   SETTLE=SECONDS    wait after the first full frame before the idle window (default 5)
#   KEYS=TEXT         type these keys after the first full frame, before SETTLE (KEYS=3: the
#                     pods view, whose AGE column changes every second for young pods)
#   CONSOLE_ENV="V=X ..."  extra environment for the console process only (e.g.
#                     CONSOLE_ENV=MIMALLOC_ALLOW_THP=0: no transparent huge pages for its heap)
#   SCRAPING=off      the console's config turns metrics scraping off ([scraping] enabled =
#                     false); by default it scrapes every annotated pod every 15 s
#   KEEP=DIR          copy each run's write log (stamps.N: "time bytes" per read) and the bytes
#                     themselves (stamps.N.raw) to DIR
#
# By default `watchfloor demo --headless --pods PODS` serves the fleet as a separate process; the
# script waits until every pod is Running (plus 15 s for readiness to settle), then RUNS times
# starts the console on its four admin contexts, in a 160x50 tmux pane, with a config file giving
# the demo's environments (dev, staging, prod = prod-eastus + prod-westus, protected) and
# XDG_CONFIG_HOME/XDG_STATE_HOME/XDG_DATA_HOME in a temporary directory. Each run:
# - "frame s": start to the first full frame: the header shows all four clusters synced (`dev ●
#   staging ●  PROD eastus ●  PROD westus ●`) and the fleet title counts workloads without
#   "loading". capture-pane is polled every 20 ms; "poll s" is when a poll first saw the full frame
#   (an upper bound), both from just before tmux starts the process. Every byte the console writes
#   goes through `tmux pipe-pane` into a timestamping reader, and "frame s" is the first write
#   after the start of the last poll that missed the full frame: the frame that completed it
#   (frames are at least 33 ms apart, so one poll interval rarely holds two). "CPU s": the
#   console's user+system time up to then.
# - memory at the first full frame: VmRSS ("RSS MB"), VmHWM (peak) and RssAnon (the heap and
#   stacks, without the mapped binary), and how much of that is transparent huge pages
#   (AnonHugePages in smaps_rollup: mimalloc asks for them, and each is 2 MB of RSS once touched);
#   VmRSS and RssAnon again after the idle window ("end").
# - idle: after SETTLE seconds, utime+stime (/proc/PID/stat) over IDLE_SECONDS with no key
#   pressed, as % of one core; bytes the console wrote to the terminal in that window, per second,
#   and how many separate reads tmux made of them per second (about one per frame).
# The last line gives each column's range over the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
pods="${1:-10000}"
runs="${2:-3}"
idle="${3:-60}"
settle="${SETTLE:-5}"
bin="${WATCHFLOOR:-${CARGO_TARGET_DIR:-target}/release/watchfloor}"
bin="$(realpath "$bin")"
[ -x "$bin" ] || { echo "no binary at $bin: cargo build --release (or set WATCHFLOOR)" >&2; exit 1; }
for tool in tmux perl; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
[ -n "${INPROCESS:-}" ] || command -v kubectl >/dev/null || { echo "kubectl is needed" >&2; exit 1; }

dir="$(mktemp -d)"
sock="$dir/tmux.sock"
fleet_pid=""
cleanup() {
    tmux -S "$sock" kill-server 2>/dev/null || true
    if [ -n "$fleet_pid" ]; then
        kill "$fleet_pid" 2>/dev/null || true
        wait "$fleet_pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$dir/config" "$dir/state" "$dir/data"
scenario=()
[ -n "${SCENARIO:-}" ] && scenario=(--scenario "$SCENARIO")
tick=$(getconf CLK_TCK)

# Timestamps every chunk tmux reads from the console's terminal: "epoch-seconds bytes" per line.
cat >"$dir/stamp.pl" <<'EOF'
use strict;
use Time::HiRes qw(time);
open(my $log, '>>', $ARGV[0]) or die;
$log->autoflush(1);
open(my $raw, '>>', $ARGV[1]) or die;
binmode $raw;
$raw->autoflush(1);
while (my $n = sysread(STDIN, my $buf, 1 << 16)) {
    printf $log "%.6f %d\n", time, $n;
    print $raw $buf;
}
EOF

cat >"$dir/config.toml" <<'EOF'
[[environments]]
name = "dev"
contexts = ["dev"]

[[environments]]
name = "staging"
contexts = ["staging"]

[[environments]]
name = "prod"
protected = true
contexts = ["prod-eastus", "prod-westus"]
EOF
if [ "${SCRAPING:-on}" = off ]; then
    printf '\n[scraping]\nenabled = false\n' >>"$dir/config.toml"
fi

if [ -z "${INPROCESS:-}" ]; then
    kc="$dir/kubeconfig"
    "$bin" demo --headless --pods "$pods" "${scenario[@]}" --kubeconfig-out "$kc" >"$dir/fleet.out" 2>&1 &
    fleet_pid=$!
    for _ in $(seq 1 600); do [ -s "$kc" ] && break; sleep 0.1; done
    [ -s "$kc" ] || { echo "the fleet wrote no kubeconfig:" >&2; cat "$dir/fleet.out" >&2; exit 1; }
    export KUBECONFIG="$kc" KUBECACHEDIR="$dir/kubecache"
    start=$(date +%s)
    while :; do
        running=0
        for c in dev staging prod-eastus prod-westus; do
            n=$(kubectl --context "$c" get pods -A -o name --field-selector=status.phase=Running 2>/dev/null | wc -l)
            running=$((running + n))
        done
        [ "$running" -ge "$pods" ] && break
        [ $(( $(date +%s) - start )) -gt 600 ] && { echo "only $running pods running after 600s" >&2; exit 1; }
        sleep 2
    done
    echo "fleet: $running pods running after $(( $(date +%s) - start ))s; settling 15s" >&2
    sleep 15
    console=(--kubeconfig "$kc" --config "$dir/config.toml"
        --context dev --context staging --context prod-eastus --context prod-westus)
else
    console=(demo --pods "$pods" "${scenario[@]}")
fi

command="exec env XDG_CONFIG_HOME=$dir/config XDG_STATE_HOME=$dir/state XDG_DATA_HOME=$dir/data ${CONSOLE_ENV:-}"
command+="$(printf ' %q' "$bin" "${console[@]}")"

# The pane's first process only holds the pane until pipe-pane is attached; respawn-pane then
# starts the console in it, so no byte it writes is missed.
tmux -S "$sock" -f /dev/null new-session -d -x 160 -y 50 "sleep 100000" \; \
    set-option -g status off \; set-option -g remain-on-exit on
size=$(tmux -S "$sock" display -p '#{pane_width}x#{pane_height}')
[ "$size" = 160x50 ] || { echo "the pane is $size, not 160x50" >&2; exit 1; }

# Reads /proc/PID/stat's utime+stime in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

full_frame() {
    local screen header
    screen="$(tmux -S "$sock" capture-pane -p)"
    header="${screen%%$'\n'*}"
    [[ $header == *"dev ●"* && $header == *"staging ●"* && $header == *"PROD eastus ●"* &&
        $header == *"PROD westus ●"* && $screen == *" workloads · 4 clusters"* &&
        $screen != *" loading"* ]]
}

# One line per run; the same formats make the min-max line.
columns=(run "frame s" "poll s" "CPU s" "RSS MB" "HWM MB" "anon MB" "THP MB" "RSS end" "anon end" "idle CPU%" "idle B/s" "writes/s")
formats=(%s %.3f %.3f %.2f %.1f %.1f %.1f %.0f %.1f %.1f %.2f %.0f %.2f)
printf '%-7s' "${columns[0]}"; printf ' %9s' "${columns[@]:1}"; printf '\n'
results="$dir/results"
for run in $(seq 1 "$runs"); do
    log="$dir/stamps.$run"
    : >"$log"
    # A placeholder holds the pane while the reader is swapped (a dead pane takes no pipe).
    # The screen is reset so nothing of the previous run can be taken for a frame.
    tmux -S "$sock" respawn-pane -k "sleep 100000" \; send-keys -R \; clear-history \; \
        pipe-pane \; pipe-pane -o "exec perl '$dir/stamp.pl' '$log' '$log.raw'"
    if full_frame; then echo "run $run: the pane was not reset" >&2; exit 1; fi
    launch=$EPOCHREALTIME
    SECONDS=0
    tmux -S "$sock" respawn-pane -k "$command"
    pid=$(tmux -S "$sock" display -p '#{pane_pid}')
    before=$launch
    while :; do
        this=$EPOCHREALTIME
        if full_frame; then
            seen=$EPOCHREALTIME
            break
        fi
        before=$this
        if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -gt 120 ]; then
            echo "run $run: no full frame (the console exited, or 120 s passed):" >&2
            tmux -S "$sock" capture-pane -p >&2
            exit 1
        fi
        sleep 0.02
    done
    cpu_start=$(cpu_ticks "$pid")
    rss=$(kb "$pid" VmRSS)
    hwm=$(kb "$pid" VmHWM)
    anon=$(kb "$pid" RssAnon)
    thp=$(awk '$1 == "AnonHugePages:" { print $2 }' "/proc/$pid/smaps_rollup")
    # The frame that completed the screen: the first write after the last poll that missed it.
    frame=$(awk -v b="$before" -v l="$launch" -v s="$seen" \
        '$1 > b && $1 <= s { printf "%.3f", $1 - l; exit }' "$log")
    poll=$(awk -v l="$launch" -v s="$seen" 'BEGIN { printf "%.3f", s - l }')
    [ -n "${KEYS:-}" ] && tmux -S "$sock" send-keys -l "$KEYS"
    sleep "$settle"
    bytes0=$(awk '{ n += $2 } END { print n + 0 }' "$log")
    writes0=$(wc -l <"$log")
    cpu0=$(cpu_ticks "$pid")
    sleep "$idle"
    cpu1=$(cpu_ticks "$pid")
    bytes1=$(awk '{ n += $2 } END { print n + 0 }' "$log")
    writes1=$(wc -l <"$log")
    rss_end=$(kb "$pid" VmRSS)
    anon_end=$(kb "$pid" RssAnon)
    values=("$run" "${frame:-nan}" "$poll"
        "$(awk -v c="$cpu_start" -v t="$tick" 'BEGIN { print c / t }')"
        "$(awk -v a="$rss" -v b="$hwm" -v c="$anon" -v h="$thp" -v d="$rss_end" -v e="$anon_end" \
            'BEGIN { print a / 1024, b / 1024, c / 1024, h / 1024, d / 1024, e / 1024 }')"
        "$(awk -v c="$((cpu1 - cpu0))" -v t="$tick" -v i="$idle" -v b="$((bytes1 - bytes0))" \
            -v w="$((writes1 - writes0))" 'BEGIN { print 100 * c / t / i, b / i, w / i }')")
    read -r -a values <<<"${values[*]}"
    echo "${values[*]}" >>"$results"
    printf '%-7s' "${values[0]}"
    for i in $(seq 1 $((${#values[@]} - 1))); do printf " %9${formats[$i]#%}" "${values[$i]}"; done
    printf '\n'
    [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$log" "$log.raw" "$KEEP/"
    # q quits from any view; the pane then shows the dead process until the next respawn.
    tmux -S "$sock" send-keys q
    for _ in $(seq 1 100); do
        [ "$(tmux -S "$sock" display -p '#{pane_dead}')" = 1 ] && break
        sleep 0.05
    done
done
awk -v formats="${formats[*]}" '{
    for (i = 2; i <= NF; i++) {
        if (NR == 1 || $i + 0 < lo[i]) lo[i] = $i + 0
        if (NR == 1 || $i + 0 > hi[i]) hi[i] = $i + 0
    }
    n = NF
} END {
    split(formats, f, " ")
    printf "%-7s", "min-max"
    for (i = 2; i <= n; i++) printf " %9s", sprintf(f[i] "-" f[i], lo[i], hi[i])
    printf "\n"
}' "$results"
echo "pods: $pods, runs: $runs, idle window: ${idle}s after ${settle}s, scenario: ${SCENARIO:-default}, keys: ${KEYS:-none}, console env: ${CONSOLE_ENV:-none}, $([ -n "${INPROCESS:-}" ] && echo "fleet in the console's process" || echo "fleet in a separate process"), binary: $bin"
