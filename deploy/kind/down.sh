#!/usr/bin/env bash
# Deletes the kind cluster up.sh created (WEFT_CLUSTER, default weft).
set -euo pipefail

readonly CLUSTER="${WEFT_CLUSTER:-weft}"

command -v kind >/dev/null 2>&1 || {
  echo "down.sh: kind is not installed or not on PATH" >&2
  exit 1
}
if kind get clusters 2>/dev/null | grep -qx "${CLUSTER}"; then
  kind delete cluster --name "${CLUSTER}"
else
  echo "no kind cluster named ${CLUSTER}; nothing to delete"
fi
