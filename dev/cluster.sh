#!/usr/bin/env bash
# make dev-cluster: create the kind cluster of the dev stack (dev/kind-cluster.yaml) and install what dev needs
# besides the stack itself: metrics-server, which the models' HorizontalPodAutoscalers read (kind has none).
# Idempotent: an existing cluster is reused. Needs docker, kind and kubectl on PATH (docs/dev.md).
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER=ml-dev
CONTEXT="kind-$CLUSTER"
METRICS_SERVER_VERSION=v0.7.2   # platform_data/pins.py METRICS_SERVER_VERSION

for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || { echo "dev-cluster needs $tool on PATH (docs/dev.md)" >&2; exit 1; }
done
if kind get clusters | grep -qx "$CLUSTER"; then
  echo "kind cluster $CLUSTER exists; reusing it"
else
  kind create cluster --config dev/kind-cluster.yaml --wait 120s
fi
kubectl --context "$CONTEXT" apply --server-side -f \
  "https://github.com/kubernetes-sigs/metrics-server/releases/download/$METRICS_SERVER_VERSION/components.yaml"
# kind's kubelets serve self-signed certificates: metrics-server has to skip their verification (dev only).
args=$(kubectl --context "$CONTEXT" -n kube-system get deployment metrics-server \
  -o jsonpath='{.spec.template.spec.containers[0].args}')
case "$args" in
  *--kubelet-insecure-tls*) ;;
  *) kubectl --context "$CONTEXT" -n kube-system patch deployment metrics-server --type=json \
       -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]' ;;
esac
kubectl --context "$CONTEXT" -n kube-system rollout status deployment metrics-server --timeout=180s
echo "cluster $CLUSTER ready (context $CONTEXT); next: make dev-images, then pulumi up -s dev"
