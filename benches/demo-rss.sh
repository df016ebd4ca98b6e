#!/usr/bin/env bash
# Whole-process memory of the headless demo with N extra pods: start it, wait until every pod is
# listed as Running, list all pods once per cluster with kubectl, then report the peak and current RSS;
# then read the logs and /metrics of SAMPLE pods (default 200) and report RSS again: apps compute
# logs and metrics on request, so this should cost memory for what was read, not for the fleet.
# Usage: benches/demo-rss.sh [PODS] [SAMPLE]   (needs a release build: cargo build --release;
# the binary is taken from $CARGO_TARGET_DIR when that is set, else from ./target)
set -euo pipefail
cd "$(dirname "$0")/.."
pods="${1:-10000}"
sample="${2:-200}"
bin="${CARGO_TARGET_DIR:-target}/release/watchfloor"
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" demo --headless --pods "$pods" --kubeconfig-out "$dir/kubeconfig" >"$dir/out" 2>&1 &
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
c=$(echo "$contexts" | head -1)
kubectl --context "$c" get pods -n bulk --no-headers -o custom-columns=N:.metadata.name | awk -v n="$sample" "NR <= n" >"$dir/sample"
start=$(date +%s)
while read -r p; do
    kubectl --context "$c" logs -n bulk "$p" --tail=1000 >/dev/null
    kubectl --context "$c" get --raw "/api/v1/namespaces/bulk/pods/$p:8080/proxy/metrics" >/dev/null
done <"$dir/sample"
echo "read logs (1000 lines) and /metrics of $(wc -l <"$dir/sample") pods in $(( $(date +%s) - start ))s; after that:"
grep -E 'VmHWM|VmRSS' "/proc/$pid/status"
