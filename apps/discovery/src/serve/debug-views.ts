/**
 * The JSON behind /debug/syncz, /debug/config_dump and /debug/config_problems,
 * built from the orchestrator's proxy states, the ADS server's per-stream
 * sync status, the snapshot cache and the config sources. Pure functions.
 */
import { formatProblem, type Problem } from '@weft/config';
import {
  type ProxySyncStatus,
  PUSH_ORDER,
  resourceToJson,
  type Snapshot,
  TYPE_SHORT_NAMES,
  type TypeSyncStatus,
  type TypeUrl,
} from '@weft/xds';
import type { ConfigSource } from '../sources/config-source.ts';
import type { ProxyState } from './push-orchestrator.ts';

/** Istio's syncz words: SYNCED (acked what was sent), NACKED, STALE (sent, not acked yet), NOT SENT. */
export type TypeSyncState = 'SYNCED' | 'NACKED' | 'STALE' | 'NOT SENT';

export interface TypeSyncView extends TypeSyncStatus {
  state: TypeSyncState;
}

export interface StreamSyncView {
  streamId: number;
  mode: ProxySyncStatus['mode'];
  /** Keyed by short type name (`CDS`, `EDS`, `LDS`, `RDS`, `SDS`). */
  types: Record<string, TypeSyncView>;
}

export interface ProxySyncView {
  nodeId: string;
  proxyType: ProxyState['type'];
  pushVersion: string | undefined;
  /** Version per short type name of the snapshot the cache holds for this proxy. */
  snapshotVersions: Record<string, string>;
  streams: StreamSyncView[];
  warnings: readonly string[];
  consistencyProblems: readonly string[];
  generationError?: string;
}

export function typeSyncState(status: TypeSyncStatus): TypeSyncState {
  if (status.sentNonce === '') return 'NOT SENT';
  if (status.lastNack !== undefined && status.lastNack.nonce === status.sentNonce) return 'NACKED';
  return status.ackedVersion === status.sentVersion ? 'SYNCED' : 'STALE';
}

function byShortName<T, U>(record: Partial<Record<TypeUrl, T>>, map: (value: T) => U): Record<string, U> {
  const out: Record<string, U> = {};
  for (const typeUrl of PUSH_ORDER) {
    const value = record[typeUrl];
    if (value !== undefined) out[TYPE_SHORT_NAMES[typeUrl]] = map(value);
  }
  return out;
}

/** One entry per connected proxy, sorted by node id. */
export function buildSyncz(
  proxies: readonly ProxyState[],
  streams: readonly ProxySyncStatus[],
): ProxySyncView[] {
  return [...proxies]
    .sort((a, b) => a.nodeId.localeCompare(b.nodeId))
    .map((proxy) => ({
      nodeId: proxy.nodeId,
      proxyType: proxy.type,
      pushVersion: proxy.pushVersion,
      snapshotVersions: byShortName(proxy.versions, (v) => v),
      streams: streams
        .filter((s) => s.nodeId === proxy.nodeId)
        .map((s) => ({
          streamId: s.streamId,
          mode: s.mode,
          types: byShortName(s.types, (status) => ({ ...status, state: typeSyncState(status) })),
        })),
      warnings: proxy.warnings,
      consistencyProblems: proxy.consistencyProblems,
      ...(proxy.generationError === undefined ? {} : { generationError: proxy.generationError }),
    }));
}

/**
 * Finds a proxy by its full node id, or by the ID part of an Istio node id
 * (`TYPE~IP~ID~DOMAIN`, ID being `name.namespace`), as `istioctl` accepts.
 */
export function findNodeId(nodeIds: readonly string[], proxyId: string): string | undefined {
  if (nodeIds.includes(proxyId)) return proxyId;
  const matches = nodeIds.filter((id) => id.split('~')[2] === proxyId);
  return matches.length === 1 ? matches[0] : undefined;
}

/** The resources of a snapshot as JSON, per short type name, in push order. */
export function buildConfigDump(nodeId: string, pushVersion: string | undefined, snapshot: Snapshot) {
  const types: Record<string, { version: string; resources: unknown[] }> = {};
  for (const typeUrl of PUSH_ORDER) {
    const resources = [...snapshot.resources(typeUrl).values()];
    if (resources.length === 0) continue;
    types[TYPE_SHORT_NAMES[typeUrl]] = {
      version: snapshot.version(typeUrl),
      resources: resources.map((r) => resourceToJson(r)),
    };
  }
  return { nodeId, pushVersion, types };
}

export interface ProblemView extends Problem {
  /** `file:line Kind namespace/name: field.path: reason`. */
  text: string;
}

/** Every source with its readiness and current problems. */
export function buildConfigProblems(sources: readonly ConfigSource[]) {
  const views = sources.map((source) => ({
    source: source.name,
    ready: source.ready,
    problems: source.problems().map((p): ProblemView => ({ ...p, text: formatProblem(p) })),
  }));
  return { total: views.reduce((n, v) => n + v.problems.length, 0), sources: views };
}
