#!/usr/bin/env bash
# Whole-process memory of the headless demo with N extra pods: start it, wait until every pod is
# listed as Running, list all pods once per cluster with kubectl, then report the peak and current RSS.
# Usage: benches/demo-rss.sh [PODS]   (needs a release build: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
pods="${1:-10000}"
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
./target/release/watchfloor demo --headless --pods "$pods" --kubeconfig-out "$dir/kubeconfig" >"$dir/out" 2>&1 &
pid=$!
for _ in $(seq 1 600); do [ -s "$dir/kubeconfig" ] && break; sleep 0.1; done
export KUBECONFIG="$dir/kubeconfig" KUBECACHEDIR="$dir/cache"
contexts=$(kubectl config get-contexts -o name | grep -v '^viewer@')
start=$(date +%s)
while :; do
    running=0
    for c in $contexts; do
        n=$(kubectl --context "$c" get pods -A --no-headers --field-selector=status.phase=Running 2>/dev/null | wc -l)
        running=$((running + n))
    done
    [ "$running" -ge "$pods" ] && break
    [ $(( $(date +%s) - start )) -gt 600 ] && { echo "only $running pods running after 600s"; break; }
    sleep 2
done
for c in $contexts; do
    /usr/bin/time -f "$c: kubectl get pods -A (table) %es" kubectl --context "$c" get pods -A >/dev/null
done
echo "pods running: $running (in $(( $(date +%s) - start ))s)"
grep -E 'VmHWM|VmRSS' "/proc/$pid/status"
