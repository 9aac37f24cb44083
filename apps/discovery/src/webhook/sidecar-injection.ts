/**
 * Whether a pod gets the sidecar, and the JSONPatch that adds it. Pure: the
 * handler passes the pod from the AdmissionReview and its namespace's labels.
 *
 * Policy, as Istio's: never in kube-system/kube-public or host-network pods;
 * opt-out wins (`sidecar.istio.io/inject: "false"` as label or annotation, or
 * namespace `istio-injection=disabled`); then namespace
 * `istio-injection=enabled` or pod `sidecar.istio.io/inject: "true"` injects.
 * An already injected pod (status annotation or proxy container present)
 * gets no patch, so injection is idempotent.
 */
import { isIP } from 'node:net';
import { TLS_MODE_LABEL } from '@weft/config';
import { type JsonPatchOperation, pointerToken } from './admission-review.ts';
import {
  type CaptureSettings,
  INIT_CONTAINER,
  initContainer,
  PROXY_CONTAINER,
  proxyContainer,
  type SidecarTemplateOptions,
  sidecarVolumes,
} from './sidecar-template.ts';

export const INJECT_KEY = 'sidecar.istio.io/inject';
export const STATUS_ANNOTATION = 'sidecar.istio.io/status';
export const NAMESPACE_INJECTION_LABEL = 'istio-injection';
export const EXCLUDE_INBOUND_PORTS = 'traffic.sidecar.istio.io/excludeInboundPorts';
export const EXCLUDE_OUTBOUND_PORTS = 'traffic.sidecar.istio.io/excludeOutboundPorts';
export const INCLUDE_OUTBOUND_IP_RANGES = 'traffic.sidecar.istio.io/includeOutboundIPRanges';
export const EXCLUDE_OUTBOUND_IP_RANGES = 'traffic.sidecar.istio.io/excludeOutboundIPRanges';

const NEVER_INJECTED = new Set(['kube-system', 'kube-public']);

export type InjectionDecision =
  | { inject: false; reason: string; problems?: readonly string[] }
  | { inject: true; patch: JsonPatchOperation[] };

interface PodShape {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    hostNetwork?: boolean;
    containers?: { name?: string }[];
    initContainers?: unknown[];
    volumes?: unknown[];
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parsePorts(value: string | undefined, field: string, problems: string[]): number[] {
  if (value === undefined || value.trim() === '') return [];
  const ports: number[] = [];
  for (const part of value.split(',').map((p) => p.trim())) {
    const port = Number(part);
    if (!/^\d+$/.test(part) || port < 1 || port > 65_535) {
      problems.push(`metadata.annotations["${field}"]: "${part}" is not a port from 1 to 65535`);
    } else {
      ports.push(port);
    }
  }
  return ports;
}

function isCidr(text: string): boolean {
  const [address, prefix, extra] = text.split('/');
  if (address === undefined || prefix === undefined || extra !== undefined || !/^\d+$/.test(prefix))
    return false;
  const family = isIP(address);
  return family !== 0 && Number(prefix) <= (family === 4 ? 32 : 128);
}

function parseRanges(value: string | undefined, field: string, fallback: string, problems: string[]): string {
  if (value === undefined) return fallback;
  const trimmed = value.trim();
  if (trimmed === '' || trimmed === '*') return trimmed;
  const ranges = trimmed.split(',').map((r) => r.trim());
  for (const range of ranges) {
    if (!isCidr(range))
      problems.push(`metadata.annotations["${field}"]: "${range}" is not a CIDR (e.g. 10.0.0.0/8)`);
  }
  return ranges.join(',');
}

/** Capture settings from the pod's `traffic.sidecar.istio.io/*` annotations, or their problems. */
export function captureSettings(
  annotations: Readonly<Record<string, string>>,
): { ok: true; value: CaptureSettings } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const value: CaptureSettings = {
    excludeInboundPorts: parsePorts(annotations[EXCLUDE_INBOUND_PORTS], EXCLUDE_INBOUND_PORTS, problems),
    excludeOutboundPorts: parsePorts(annotations[EXCLUDE_OUTBOUND_PORTS], EXCLUDE_OUTBOUND_PORTS, problems),
    includeOutboundIPRanges: parseRanges(
      annotations[INCLUDE_OUTBOUND_IP_RANGES],
      INCLUDE_OUTBOUND_IP_RANGES,
      '*',
      problems,
    ),
    excludeOutboundIPRanges: parseRanges(
      annotations[EXCLUDE_OUTBOUND_IP_RANGES],
      EXCLUDE_OUTBOUND_IP_RANGES,
      '',
      problems,
    ),
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

/** Why a pod would not be injected, or undefined when the policy says inject. */
function policyRefusal(
  pod: PodShape,
  namespace: string,
  namespaceLabels: Readonly<Record<string, string>>,
): string | undefined {
  if (NEVER_INJECTED.has(namespace)) return `namespace ${namespace} is never injected`;
  if (pod.spec?.hostNetwork === true) return 'pod uses the host network';
  const podSays = pod.metadata?.labels?.[INJECT_KEY] ?? pod.metadata?.annotations?.[INJECT_KEY];
  const namespaceSays = namespaceLabels[NAMESPACE_INJECTION_LABEL];
  if (podSays === 'false') return `pod sets ${INJECT_KEY}: "false"`;
  if (namespaceSays === 'disabled') return `namespace ${namespace} has ${NAMESPACE_INJECTION_LABEL}=disabled`;
  if (namespaceSays === 'enabled' || podSays === 'true') return undefined;
  return `neither namespace ${namespace} (${NAMESPACE_INJECTION_LABEL}=enabled) nor the pod (${INJECT_KEY}: "true") asks for injection`;
}

/** The JSONPatch appending `values` to the array at `path`, creating it when absent. */
function appendAll(
  path: string,
  existing: unknown[] | undefined,
  values: readonly unknown[],
): JsonPatchOperation[] {
  if (existing === undefined) return [{ op: 'add', path, value: [...values] }];
  return values.map((value) => ({ op: 'add' as const, path: `${path}/-`, value }));
}

/** The JSONPatch setting `key` in the string map at `path`, creating the map when absent. */
function setKey(
  path: string,
  existing: Record<string, string> | undefined,
  key: string,
  value: string,
): JsonPatchOperation {
  if (existing === undefined) return { op: 'add', path, value: { [key]: value } };
  return { op: 'add', path: `${path}/${pointerToken(key)}`, value };
}

/**
 * Decides injection for `pod` (the AdmissionReview's object) in `namespace`
 * with that namespace's labels. Annotations that do not parse mean no
 * injection, with their problems (the handler logs them and returns them as
 * warnings).
 */
export function decideInjection(
  pod: unknown,
  namespace: string,
  namespaceLabels: Readonly<Record<string, string>>,
  options: SidecarTemplateOptions,
): InjectionDecision {
  if (!isRecord(pod) || !isRecord(pod.spec) || !Array.isArray(pod.spec.containers)) {
    return { inject: false, reason: 'not a pod with spec.containers' };
  }
  const shape = pod as PodShape;
  const refusal = policyRefusal(shape, namespace, namespaceLabels);
  if (refusal !== undefined) return { inject: false, reason: refusal };
  const annotations = shape.metadata?.annotations;
  if (
    annotations?.[STATUS_ANNOTATION] !== undefined ||
    shape.spec?.containers?.some((c) => c.name === PROXY_CONTAINER)
  ) {
    return { inject: false, reason: 'already injected' };
  }
  const capture = captureSettings(annotations ?? {});
  if (!capture.ok)
    return { inject: false, reason: 'invalid capture annotations', problems: capture.problems };

  const volumes = sidecarVolumes(options);
  const status = JSON.stringify({
    initContainers: [INIT_CONTAINER],
    containers: [PROXY_CONTAINER],
    volumes: volumes.map((v) => v.name),
    imagePullSecrets: null,
  });
  const spec = shape.spec ?? {};
  const init = initContainer(options, capture.value);
  const patch: JsonPatchOperation[] = [
    // The capture rules go first: init containers before them would run uncaptured.
    spec.initContainers === undefined
      ? { op: 'add', path: '/spec/initContainers', value: [init] }
      : { op: 'add', path: '/spec/initContainers/0', value: init },
    {
      op: 'add',
      path: '/spec/containers/-',
      value: proxyContainer(options, { ...shape.metadata?.labels, [TLS_MODE_LABEL]: 'istio' }),
    },
    ...appendAll('/spec/volumes', spec.volumes, volumes),
    setKey('/metadata/annotations', annotations, STATUS_ANNOTATION, status),
    setKey('/metadata/labels', shape.metadata?.labels, TLS_MODE_LABEL, 'istio'),
  ];
  if (shape.metadata === undefined) patch.unshift({ op: 'add', path: '/metadata', value: {} });
  return { inject: true, patch };
}
