/**
 * What `weft up` runs for a configuration directory, decided from the Istio
 * objects alone (pure, no I/O): one sidecar and one app per WorkloadEntry,
 * one ingress gateway per Gateway selector, and the local-mode addresses.
 *
 * Local-mode address scheme (docs/getting-started.md): a WorkloadEntry on
 * 127.0.0.N gets its proxy there (inbound on the service ports, outbound
 * listener on 127.0.0.N:15001, admin on 127.0.0.N:15000, Prometheus stats on
 * 127.0.0.N:15090) and its app on
 * 127.0.1.N with the same ports (node metadata LOCAL_APP_ADDRESS).
 */
import {
  type ConfigObject,
  type Gateway,
  type ServiceEntry,
  TLS_MODE_LABEL,
  type WorkloadEntry,
} from '@weft/config';

/** Port of each sidecar's admin endpoint (on the workload address). */
export const SIDECAR_ADMIN_PORT = 15000;
/** Port of each sidecar's Prometheus stats (`/stats/prometheus`, Istio's 15090) on the workload address. */
export const SIDECAR_STATS_PORT = 15090;
/** First port of the outbound listeners the app calls (one per service port, in order). */
export const SIDECAR_OUTBOUND_PORT = 15001;

export interface PlannedWorkload {
  /** WorkloadEntry name, e.g. `reviews-v1`. */
  readonly name: string;
  readonly namespace: string;
  /** The WorkloadEntry address the mesh dials: the proxy binds it. */
  readonly address: string;
  /** Where the app listens: 127.0.1.N for 127.0.0.N. */
  readonly appAddress: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The `app` label: which bookinfo service to run. */
  readonly app: string;
  readonly version: string;
  /** The ports its services declare (sorted): the app listens on each, the proxy binds each inbound. */
  readonly ports: readonly number[];
}

export interface PlannedGateway {
  readonly name: string;
  readonly namespace: string;
  /** Istio's ingress gateway account: `NAME-service-account`. */
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The Gateway server port whose listener (`0.0.0.0_PORT`) is bound on the gateway port. */
  readonly serverPort: number;
}

export interface MeshPlan {
  readonly workloads: readonly PlannedWorkload[];
  readonly gateways: readonly PlannedGateway[];
  /** Every service port in the mesh, sorted: port i is served on outbound listener 15001 + i. */
  readonly outboundPorts: readonly number[];
  /** Things that will not run, one sentence each. */
  readonly problems: readonly string[];
}

function matches(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** 127.0.0.N -> 127.0.1.N; undefined for any other address. */
export function appAddressFor(address: string): string | undefined {
  const match = /^127\.0\.0\.(\d{1,3})$/.exec(address);
  if (!match) return undefined;
  const last = Number(match[1]);
  return last >= 2 && last <= 254 ? `127.0.1.${last}` : undefined;
}

/** The outbound listener address for a service port on a workload address. */
export function outboundAddress(plan: MeshPlan, address: string, port: number): string {
  return `${address}:${SIDECAR_OUTBOUND_PORT + plan.outboundPorts.indexOf(port)}`;
}

/** Plans the local mesh for the objects of one configuration directory. */
export function planMesh(objects: readonly ConfigObject[]): MeshPlan {
  const problems: string[] = [];
  const entries = objects.filter((o): o is WorkloadEntry => o.kind === 'WorkloadEntry');
  const services = objects.filter((o): o is ServiceEntry => o.kind === 'ServiceEntry');
  const gatewayObjects = objects.filter((o): o is Gateway => o.kind === 'Gateway');
  const outboundPorts = [...new Set(services.flatMap((s) => (s.spec.ports ?? []).map((p) => p.number)))].sort(
    (a, b) => a - b,
  );
  const workloads: PlannedWorkload[] = [];
  const taken = new Set<string>();
  for (const entry of entries) {
    const id = `WorkloadEntry ${entry.metadata.namespace ?? 'default'}/${entry.metadata.name}`;
    const labels = entry.spec.labels ?? {};
    const address = entry.spec.address ?? '';
    const appAddress = appAddressFor(address);
    if (!appAddress) {
      problems.push(`${id}: address ${JSON.stringify(address)} is not 127.0.0.N (N in 2..254); not started`);
      continue;
    }
    if (taken.has(address)) {
      problems.push(`${id}: address ${address} is used by another WorkloadEntry; not started`);
      continue;
    }
    if (!labels.app) {
      problems.push(`${id}: no app label, so no app to run; not started`);
      continue;
    }
    const namespace = entry.metadata.namespace ?? 'default';
    const ports = services
      .filter(
        (s) =>
          (s.metadata.namespace ?? 'default') === namespace &&
          matches(s.spec.workloadSelector?.labels, labels),
      )
      .flatMap((s) =>
        (s.spec.ports ?? []).map((p) => entry.spec.ports?.[p.name] ?? p.targetPort ?? p.number),
      );
    if (ports.length === 0) {
      problems.push(`${id}: no ServiceEntry selects it; not started`);
      continue;
    }
    if (entry.spec.serviceAccount === undefined && labels[TLS_MODE_LABEL] === undefined) {
      problems.push(
        `${id}: names no serviceAccount and has no ${TLS_MODE_LABEL} label, so peers reach its sidecar in plaintext (Istio's rule) and STRICT mTLS refuses them; set spec.serviceAccount`,
      );
    }
    taken.add(address);
    workloads.push({
      name: entry.metadata.name,
      namespace,
      address,
      appAddress,
      serviceAccount: entry.spec.serviceAccount ?? 'default',
      labels,
      app: labels.app,
      version: labels.version ?? 'v1',
      ports: [...new Set(ports)].sort((a, b) => a - b),
    });
  }
  const gateways: PlannedGateway[] = [];
  const seenSelectors = new Set<string>();
  for (const gateway of gatewayObjects) {
    const selector = gateway.spec.selector ?? {};
    const key = JSON.stringify(Object.entries(selector).sort());
    const serverPort = gateway.spec.servers.find((s) => s.port.protocol.toUpperCase() === 'HTTP')?.port
      .number;
    if (seenSelectors.has(key) || serverPort === undefined) continue;
    seenSelectors.add(key);
    const name = selector.istio ? `istio-${selector.istio}` : `gateway-${gateways.length + 1}`;
    gateways.push({
      name,
      namespace: 'istio-system',
      serviceAccount: `${name}-service-account`,
      labels: selector,
      serverPort,
    });
  }
  return {
    workloads: workloads.sort((a, b) => a.address.localeCompare(b.address)),
    gateways,
    outboundPorts,
    problems,
  };
}
