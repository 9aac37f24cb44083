#!/usr/bin/env bash
# Brings Weft up on a local kind cluster and sends one request through the
# ingress gateway to bookinfo:
#   1. create the kind cluster (deploy/kind/kind-config.yaml) unless it exists
#   2. docker build the images (deploy/docker/Dockerfile targets)
#   3. kind load them into the cluster
#   4. kubectl apply -k deploy/kubernetes; wait for the control plane
#   5. kubectl apply -k deploy/examples/bookinfo (namespace labelled istio-injection=enabled)
#   6. curl http://localhost:8080/productpage through the gateway
# Needs docker (with a running engine), kind and kubectl on PATH.
# Environment: WEFT_CLUSTER (default weft), WEFT_TAG (default dev),
#              WEFT_SKIP_BUILD=1 to reuse images already built.
set -euo pipefail

readonly CLUSTER="${WEFT_CLUSTER:-weft}"
readonly TAG="${WEFT_TAG:-dev}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly ROOT
readonly CONTEXT="kind-${CLUSTER}"
readonly IMAGES=(weft-discovery weft-ca weft-proxy weft-bookinfo)

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'up.sh: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed or not on PATH ($2)"
}

need docker "https://docs.docker.com/engine/install/"
need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
need curl "apt-get install curl"
docker info >/dev/null 2>&1 || die "docker is installed but its engine is not reachable (is the daemon running? can this user use it?)"

kc() { kubectl --context "${CONTEXT}" "$@"; }

say "kind cluster ${CLUSTER}"
if kind get clusters 2>/dev/null | grep -qx "${CLUSTER}"; then
  echo "exists; reusing it"
else
  kind create cluster --name "${CLUSTER}" --config "${ROOT}/deploy/kind/kind-config.yaml" --wait 120s
fi

if [[ "${WEFT_SKIP_BUILD:-0}" != 1 ]]; then
  for image in "${IMAGES[@]}"; do
    say "docker build ${image}:${TAG}"
    docker build -f "${ROOT}/deploy/docker/Dockerfile" --target "${image}" -t "${image}:${TAG}" "${ROOT}"
  done
fi

for image in "${IMAGES[@]}"; do
  say "kind load ${image}:${TAG}"
  kind load docker-image --name "${CLUSTER}" "${image}:${TAG}"
done

say "control plane (deploy/kubernetes)"
# CRDs first, so the Istio kinds exist before anything uses them.
kc apply -f "${ROOT}/deploy/kubernetes/crds/istio-crds.yaml"
kc wait --for=condition=Established --timeout=60s crd --all
kc apply -k "${ROOT}/deploy/kubernetes"
for deployment in weft-ca weft-discovery; do
  kc -n weft-system rollout status "deployment/${deployment}" --timeout=180s
done

say "istio-ca-root-cert published by weft-ca"
for _ in $(seq 1 30); do
  kc -n default get configmap istio-ca-root-cert >/dev/null 2>&1 && break
  sleep 2
done
kc -n default get configmap istio-ca-root-cert >/dev/null || die "weft-ca did not publish ConfigMap istio-ca-root-cert (kubectl -n weft-system logs deploy/weft-ca)"

say "bookinfo (deploy/examples/bookinfo, injected namespace)"
kc apply -k "${ROOT}/deploy/examples/bookinfo"
kc label namespace bookinfo istio-injection=enabled --overwrite
for deployment in productpage-v1 details-v1 reviews-v1 reviews-v2 reviews-v3 ratings-v1; do
  kc -n bookinfo rollout status "deployment/${deployment}" --timeout=180s
done
kc -n weft-system rollout status deployment/weft-ingressgateway --timeout=120s

say "curl the gateway"
url="http://localhost:8080/productpage"
for attempt in $(seq 1 30); do
  if code="$(curl -s -o /dev/null -w '%{http_code}' "${url}")" && [[ "${code}" == 200 ]]; then
    echo "GET ${url} -> 200 (attempt ${attempt})"
    echo "Weft is up. Try: kubectl --context ${CONTEXT} -n bookinfo get pods; deploy/kind/down.sh to delete."
    exit 0
  fi
  sleep 2
done
die "GET ${url} did not answer 200 (last: ${code:-none}); see kubectl --context ${CONTEXT} -n weft-system logs deploy/weft-ingressgateway"
