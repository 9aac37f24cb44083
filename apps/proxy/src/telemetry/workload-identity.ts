/**
 * Who is on each side of a request, for Istio's standard metric labels:
 * this proxy's own workload (from its node metadata) and a peer workload
 * (from the endpoint metadata discovery attaches, Istio's
 * `filterMetadata.istio.workload` = `NAME;NAMESPACE;SERVICE;REVISION;CLUSTER`).
 */

/** A workload as Istio's telemetry names it; `unknown` where not known. */
export interface WorkloadLabels {
  readonly workload: string;
  readonly namespace: string;
  readonly app: string;
  readonly version: string;
  /** `spiffe://TD/ns/NS/sa/SA`, or `unknown`. */
  readonly principal: string;
}

export const UNKNOWN = 'unknown';

export const UNKNOWN_WORKLOAD: WorkloadLabels = {
  workload: UNKNOWN,
  namespace: UNKNOWN,
  app: UNKNOWN,
  version: UNKNOWN,
  principal: UNKNOWN,
};

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * This proxy's workload from its node metadata: WORKLOAD_NAME, NAMESPACE,
 * LABELS (`service.istio.io/canonical-*`, else `app`/`version`) and the
 * SPIFFE identity when it has one (`trustDomain` + SERVICE_ACCOUNT).
 */
export function localWorkload(
  metadata: Readonly<Record<string, unknown>>,
  principal?: string,
): WorkloadLabels {
  const labels = (
    typeof metadata.LABELS === 'object' && metadata.LABELS !== null ? metadata.LABELS : {}
  ) as Record<string, unknown>;
  return {
    workload: text(metadata.WORKLOAD_NAME) ?? UNKNOWN,
    namespace: text(metadata.NAMESPACE) ?? UNKNOWN,
    app: text(labels['service.istio.io/canonical-name']) ?? text(labels.app) ?? UNKNOWN,
    version: text(labels['service.istio.io/canonical-revision']) ?? text(labels.version) ?? UNKNOWN,
    principal: principal ?? UNKNOWN,
  };
}

/**
 * The workload of an EDS lbEndpoint from `metadata.filterMetadata.istio.workload`;
 * undefined when absent or malformed (never throws).
 */
export function endpointWorkload(lbEndpoint: Readonly<Record<string, unknown>>): WorkloadLabels | undefined {
  const metadata = lbEndpoint.metadata as { filterMetadata?: { istio?: { workload?: unknown } } } | undefined;
  const value = text(metadata?.filterMetadata?.istio?.workload);
  if (!value) return undefined;
  const [workload, namespace, app, version] = value.split(';');
  if (!workload || !namespace) return undefined;
  return { workload, namespace, app: app || UNKNOWN, version: version || UNKNOWN, principal: UNKNOWN };
}

/** Service labels: the FQDN and, for `NAME.NAMESPACE.svc...` hosts, its name and namespace. */
export interface ServiceLabels {
  readonly service: string;
  readonly name: string;
  readonly namespace: string;
}

/** `outbound|9080|v1|reviews.default.svc.cluster.local` -> its host; other names -> undefined. */
export function clusterServiceHost(cluster: string): string | undefined {
  const parts = cluster.split('|');
  return parts.length === 4 && parts[0] === 'outbound' && parts[3] ? parts[3] : undefined;
}

/** Labels of a service host (`reviews.default.svc.cluster.local`, `reviews:9080`, ...). */
export function serviceLabels(host: string | undefined, defaultNamespace: string): ServiceLabels {
  if (!host) return { service: UNKNOWN, name: UNKNOWN, namespace: UNKNOWN };
  const bare = host.replace(/:\d+$/, '');
  const labels = bare.split('.');
  if (labels.length >= 3 && labels[2] === 'svc')
    return { service: bare, name: labels[0]!, namespace: labels[1]! };
  if (labels.length === 1) return { service: bare, name: bare, namespace: defaultNamespace };
  return { service: bare, name: bare, namespace: UNKNOWN };
}
