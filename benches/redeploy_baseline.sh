#!/usr/bin/env bash
# The kubectl baseline of `cargo bench --bench redeploy_overhead` (benches/README.md): the same
# job as `llmops-console redeploy NS/NAME --yes`, done the way one would by hand with kubectl.
#
#   redeploy_baseline.sh save     NS raw|kserve NAME FILE   # the endpoint's root objects, sanitised
#   redeploy_baseline.sh redeploy NS raw|kserve NAME FILE   # one redeploy from FILE
#
# KUBECTL (required) is the kubectl to run; KUBECONFIG points it at the cluster.
#
# redeploy, as the console does it: delete the endpoint's objects and wait until every one is gone
# (the roots with `delete --wait`, then what garbage collection takes after them: ReplicaSets and
# pods still in their grace period), create them again from FILE, and wait until ready
# (`rollout status` for a Deployment, the InferenceService's Ready condition for KServe).
# `save` runs once before the timed runs; it is not part of the job.
set -euo pipefail

usage() {
    echo "usage: $0 save|redeploy NAMESPACE raw|kserve NAME FILE" >&2
    exit 2
}
[ $# -eq 5 ] || usage
cmd=$1 ns=$2 kind=$3 name=$4 file=$5
: "${KUBECTL:?set KUBECTL to the kubectl to run}"
k() { "$KUBECTL" -n "$ns" "$@"; }
# With BASELINE_TIMES set, when each phase ends (bash's clock: no process started to read it).
mark() { [ -z "${BASELINE_TIMES:-}" ] || echo "baseline-time $1 $EPOCHREALTIME" >&2; }

case $kind in
    # The raw endpoint's roots (Deployment, Service, HPA, Ingress) carry the endpoint label; the
    # ReplicaSet and pods have it from the pod template.
    raw)
        roots="deployment/$name service/$name horizontalpodautoscaler/$name ingress/$name"
        owned="replicaset,pod"
        selector="llm-ops.io/endpoint=$name"
        ;;
    # KServe's root is the InferenceService; its controller labels everything it makes.
    kserve)
        roots="inferenceservice/$name"
        owned="deployment,service,horizontalpodautoscaler,ingress,replicaset,pod"
        selector="serving.kserve.io/inferenceservice=$name"
        ;;
    *) usage ;;
esac

case $cmd in
    save)
        # What `kubectl create -f` accepts again: no server-set metadata, no status. One document
        # per object: the simulator's OpenAPI (v3 only) has no `v1 List`, so kubectl could not
        # validate the List that `get -o json` prints (it falls back to /openapi/v2: 404).
        # shellcheck disable=SC2086
        k get $roots -o json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
items = doc["items"] if doc.get("kind") == "List" else [doc]
for o in items:
    md = o["metadata"]
    for f in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
              "selfLink", "ownerReferences", "finalizers", "deletionTimestamp",
              "deletionGracePeriodSeconds"):
        md.pop(f, None)
    ann = md.get("annotations") or {}
    for a in ("deployment.kubernetes.io/revision",
              "kubectl.kubernetes.io/last-applied-configuration"):
        ann.pop(a, None)
    o.pop("status", None)
    if o["kind"] == "Service":
        o["spec"].pop("clusterIP", None)
        o["spec"].pop("clusterIPs", None)
print("\n---\n".join(json.dumps(o, indent=1) for o in items))
' >"$file"
        ;;
    redeploy)
        mark start
        k delete -f "$file" --wait=true --timeout=120s >/dev/null
        k wait --for=delete "$owned" -l "$selector" --timeout=120s >/dev/null
        mark deleted
        k create -f "$file" >/dev/null
        mark created
        if [ "$kind" = raw ]; then
            k rollout status "deployment/$name" --timeout=600s >/dev/null
        else
            k wait --for=condition=Ready "inferenceservice/$name" --timeout=600s >/dev/null
        fi
        mark end
        ;;
    *) usage ;;
esac
