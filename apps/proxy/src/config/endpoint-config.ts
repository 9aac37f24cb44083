/**
 * ClusterLoadAssignment -> immutable endpoint sets grouped by priority and
 * locality. See envoy/config/endpoint/v3/endpoint.proto and
 * endpoint_components.proto.
 */
import { isIP } from 'node:net';
import { endpointWorkload, type WorkloadLabels } from '../telemetry/workload-identity.ts';
import {
  at,
  type Body,
  type Compiled,
  ProblemList,
  readBodies,
  readBody,
  readEnum,
  readInt,
  readString,
  readWrappedInt,
} from './problems.ts';
import { readSocketMatchMetadata } from './transport-socket-config.ts';

export const HEALTH_STATUSES = [
  'UNKNOWN',
  'HEALTHY',
  'UNHEALTHY',
  'DRAINING',
  'TIMEOUT',
  'DEGRADED',
] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** One upstream host. `key` is `address:port`, stable across updates. */
export interface EndpointConfig {
  readonly address: string;
  readonly port: number;
  readonly key: string;
  /** From EDS; UNKNOWN and HEALTHY count as healthy, as in Envoy. */
  readonly health: HealthStatus;
  readonly weight: number;
  /** Metadata `envoy.transport_socket_match` (picks the cluster's transportSocketMatches entry). */
  readonly socketMatch: Readonly<Record<string, string>>;
  /** Metadata `istio.workload` (telemetry's destination labels), when discovery sent it. */
  readonly workload?: WorkloadLabels;
}

export interface LocalityConfig {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

export interface LocalityEndpointsConfig {
  readonly locality: LocalityConfig;
  /** loadBalancingWeight; undefined when unset (locality-weighted LB then ignores the locality). */
  readonly weight: number | undefined;
  readonly priority: number;
  readonly endpoints: readonly EndpointConfig[];
}

/** A compiled ClusterLoadAssignment. `priorities[p]` lists the localities of priority p (contiguous from 0). */
export interface EndpointsConfig {
  readonly clusterName: string;
  readonly priorities: readonly (readonly LocalityEndpointsConfig[])[];
}

/** True when the endpoint may receive traffic. */
export function isHealthy(endpoint: EndpointConfig): boolean {
  return endpoint.health === 'UNKNOWN' || endpoint.health === 'HEALTHY';
}

/** Reads a `core.v3.Address` holding a socketAddress with an IP literal or hostname and a port. */
export function readSocketAddress(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
): { address: string; port: number } | undefined {
  const address = readBody(parent, field, path, problems);
  const addressPath = at(path, field);
  const socket = address && readBody(address, 'socketAddress', addressPath, problems);
  if (!socket) {
    problems.add(at(addressPath, 'socketAddress'), 'is required');
    return undefined;
  }
  const socketPath = at(addressPath, 'socketAddress');
  const host = readString(socket, 'address', socketPath, problems);
  const port = readInt(socket, 'portValue', socketPath, problems, { min: 0, max: 65535 }) ?? 0;
  if (!host) {
    problems.add(at(socketPath, 'address'), 'is required');
    return undefined;
  }
  return { address: host, port };
}

/** Compiles a ClusterLoadAssignment body. `requireIp` rejects hostnames (EDS endpoints must be IPs). */
export function compileClusterLoadAssignment(body: Body, requireIp = true): Compiled<EndpointsConfig> {
  const problems = new ProblemList();
  const clusterName = readString(body, 'clusterName', '', problems) ?? '';
  if (!clusterName) problems.add('clusterName', 'is required');
  const byPriority: LocalityEndpointsConfig[][] = [];
  const seen = new Set<string>();
  const localitiesSeen = new Set<string>();
  for (const { body: group, path } of readBodies(body, 'endpoints', '', problems)) {
    const localityBody = readBody(group, 'locality', path, problems) ?? {};
    const locality: LocalityConfig = {
      region: readString(localityBody, 'region', at(path, 'locality'), problems) ?? '',
      zone: readString(localityBody, 'zone', at(path, 'locality'), problems) ?? '',
      subZone: readString(localityBody, 'subZone', at(path, 'locality'), problems) ?? '',
    };
    const priority = readInt(group, 'priority', path, problems, { min: 0, max: 128 }) ?? 0;
    const localityKey = `${locality.region}/${locality.zone}/${locality.subZone}@${priority}`;
    if (localitiesSeen.has(localityKey))
      problems.add(at(path, 'locality'), `duplicate locality ${localityKey}`);
    localitiesSeen.add(localityKey);
    const weight = readWrappedInt(group, 'loadBalancingWeight', path, problems, { min: 1 });
    const endpoints: EndpointConfig[] = [];
    for (const { body: lbEndpoint, path: epPath } of readBodies(group, 'lbEndpoints', path, problems)) {
      const endpoint = readBody(lbEndpoint, 'endpoint', epPath, problems);
      if (!endpoint) {
        problems.add(at(epPath, 'endpoint'), 'is required');
        continue;
      }
      const socket = readSocketAddress(endpoint, 'address', at(epPath, 'endpoint'), problems);
      if (!socket) continue;
      if (requireIp && isIP(socket.address) === 0) {
        problems.add(
          at(epPath, 'endpoint.address.socketAddress.address'),
          `must be an IP literal, got ${socket.address}`,
        );
        continue;
      }
      if (socket.port === 0)
        problems.add(at(epPath, 'endpoint.address.socketAddress.portValue'), 'is required');
      const key =
        isIP(socket.address) === 6
          ? `[${socket.address}]:${socket.port}`
          : `${socket.address}:${socket.port}`;
      if (seen.has(key)) problems.add(at(epPath, 'endpoint.address'), `duplicate endpoint ${key}`);
      seen.add(key);
      const health =
        readEnum(lbEndpoint, 'healthStatus', epPath, problems, HEALTH_STATUSES, HEALTH_STATUSES) ?? 'UNKNOWN';
      const epWeight = readWrappedInt(lbEndpoint, 'loadBalancingWeight', epPath, problems, { min: 1 }) ?? 1;
      endpoints.push({
        address: socket.address,
        port: socket.port,
        key,
        health,
        weight: epWeight,
        socketMatch: readSocketMatchMetadata(lbEndpoint),
        ...withWorkload(endpointWorkload(lbEndpoint)),
      });
    }
    const list = byPriority[priority] ?? [];
    byPriority[priority] = list;
    list.push({ locality, weight, priority, endpoints });
  }
  for (let p = 0; p < byPriority.length; p++) {
    if (!byPriority[p])
      problems.add('endpoints', `priorities must be contiguous from 0; priority ${p} is missing`);
  }
  return problems.result({ clusterName, priorities: byPriority });
}

function withWorkload(workload: WorkloadLabels | undefined): { workload?: WorkloadLabels } {
  return workload ? { workload } : {};
}
