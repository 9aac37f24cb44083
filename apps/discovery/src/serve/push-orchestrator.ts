/**
 * The push pipeline: config store changes -> debounce -> a new immutable
 * PushContext -> one generation per distinct proxy view -> a snapshot per
 * connected proxy, set in the cache only when that proxy's snapshot changed
 * (the ADS server then sends only the changed types).
 *
 * The orchestrator reaches translation only through the four functions of
 * `Translator` and the ADS server only through the `SnapshotCache`, so either
 * side can be swapped (and faked in tests).
 */
import type { ConfigObject, ConfigStore, MeshConfig } from '@weft/config';
import type { Logger } from '@weft/telemetry';
import {
  createDebounce,
  createSnapshot,
  PUSH_ORDER,
  type Resource,
  type Snapshot,
  type SnapshotCache,
  type TypeUrl,
} from '@weft/xds';
import { createResourceInterner } from './resource-interner.ts';

/** What the orchestrator needs to know about a parsed proxy. */
export interface TranslatedProxy {
  readonly type: 'sidecar' | 'router';
}

/** The node fields translation reads (a subset of the ADS `Node`). */
export interface ProxyNode {
  id: string;
  metadata: Record<string, unknown>;
  locality?: { region?: string; zone?: string; subZone?: string };
}

export type ParseProxyResult<P> = { ok: true; proxy: P } | { ok: false; problems: string[] };

export interface GeneratedResources {
  resources: Partial<Record<TypeUrl, readonly Resource[]>>;
  warnings: readonly string[];
}

/** The four translation functions the serving layer uses; nothing else of translation leaks in. */
export interface Translator<P extends TranslatedProxy, C extends { readonly version: string }> {
  parseProxy(node: ProxyNode): ParseProxyResult<P>;
  createPushContext(objects: readonly ConfigObject[], mesh: MeshConfig, version: string): C;
  generateResources(proxy: P, push: C): GeneratedResources;
  /** Proxies with equal keys get equal resources from one push context. */
  proxyViewKey(proxy: P, push: C): string;
  /**
   * Resource names every proxy resolves itself, never sent over xDS (Istio's
   * SDS `default` and `ROOTCA` come from the proxy's own agent): references
   * to them are not consistency problems.
   */
  readonly resolvedByProxy?: Partial<Record<TypeUrl, ReadonlySet<string>>>;
}

/** What one push did, for metrics and logs. */
export interface PushReport {
  /** The push context version. */
  version: string;
  durationSeconds: number;
  /** Proxies whose snapshot changed, per type URL whose version changed. */
  changedTypes: Partial<Record<TypeUrl, number>>;
  proxiesUpdated: number;
  /** Distinct proxy views generated in this push. */
  viewsGenerated: number;
  /** Set when no push context could be built; the previous one stays current. */
  error?: string;
}

/** The orchestrator's view of one connected proxy, for /debug/syncz. */
export interface ProxyState {
  nodeId: string;
  type: 'sidecar' | 'router';
  /** Open ADS streams of this node. */
  streams: number;
  /** Push context version of the snapshot the proxy has in the cache. */
  pushVersion: string | undefined;
  /** Snapshot version per type URL. */
  versions: Partial<Record<TypeUrl, string>>;
  /** Translation warnings of the current snapshot. */
  warnings: readonly string[];
  /** `Snapshot.consistencyCheck()` problems of the current snapshot. */
  consistencyProblems: readonly string[];
  /** Set when translation failed for this proxy; it keeps its previous snapshot. */
  generationError: string | undefined;
}

export type ConnectResult = { ok: true } | { ok: false; reason: string };

export interface PushOrchestrator {
  /**
   * Registers a stream's node: parses it, and if a push context exists gives
   * it a snapshot now. A node that fails to parse is refused with the reason;
   * the caller closes the stream with INVALID_ARGUMENT. Safe to call for
   * several streams of one node (counted; the latest node's metadata wins).
   */
  connect(node: ProxyNode): ConnectResult;
  /** Forgets one stream of `nodeId`; the last one clears the node's snapshot. */
  disconnect(nodeId: string): void;
  /**
   * Pushes now (the debounced path calls this). Returns what it did. A
   * pending debounced push is dropped: this one reads the store as it is now
   * (the source's initial load, pushed at start-up, is not pushed again).
   */
  pushNow(): PushReport;
  /** Asks for a debounced push (store changes call this). */
  requestPush(): void;
  proxies(): readonly ProxyState[];
  /** The version of the latest push context, or undefined before the first push. */
  readonly pushVersion: string | undefined;
  /** Stops listening to the store and cancels a pending push. Safe to repeat. */
  close(): void;
}

export interface PushOrchestratorOptions<P extends TranslatedProxy, C extends { readonly version: string }> {
  store: ConfigStore;
  cache: SnapshotCache;
  translator: Translator<P, C>;
  mesh: MeshConfig;
  /** Quiet period after a store change before pushing, in ms; default 100. */
  debounceMs?: number;
  /** Longest a steady stream of changes may delay a push, in ms; default 10 x debounceMs. */
  maxDelayMs?: number;
  logger?: Logger;
  /** Called after every push. */
  onPush?: (report: PushReport) => void;
  /** Called whenever a proxy's snapshot is set (on connect and in pushes), with the type URLs that changed. */
  onSnapshotSet?: (nodeId: string, changed: readonly TypeUrl[]) => void;
  /** Monotonic clock in milliseconds; default performance.now. */
  now?: () => number;
}

interface ProxyEntry<P> {
  readonly nodeId: string;
  proxy: P;
  streams: number;
  snapshot: Snapshot | undefined;
  pushVersion: string | undefined;
  warnings: readonly string[];
  consistencyProblems: readonly string[];
  generationError: string | undefined;
}

type Generation =
  | { ok: true; snapshot: Snapshot; warnings: readonly string[]; consistencyProblems: readonly string[] }
  | { ok: false; error: string };

const NOOP_LOGGER: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => NOOP_LOGGER,
};

/**
 * Type URLs whose version differs between two snapshots; against no previous
 * snapshot, the non-empty types of `next`.
 */
function changedTypeUrls(previous: Snapshot | undefined, next: Snapshot): TypeUrl[] {
  return PUSH_ORDER.filter((t) =>
    previous === undefined ? next.version(t) !== '' : previous.version(t) !== next.version(t),
  );
}

/** Creates the orchestrator and subscribes it to the store. No push happens until asked. */
export function createPushOrchestrator<P extends TranslatedProxy, C extends { readonly version: string }>(
  options: PushOrchestratorOptions<P, C>,
): PushOrchestrator {
  const { store, cache, translator, mesh } = options;
  const log = options.logger ?? NOOP_LOGGER;
  const now = options.now ?? (() => performance.now());
  const debounceMs = options.debounceMs ?? 100;
  const entries = new Map<string, ProxyEntry<P>>();
  let push: C | undefined;
  /** Generations of the current push context by view key, shared by the push and later connects. */
  let pushMemo = new Map<string, Generation>();
  let pushCount = 0;
  const interner = createResourceInterner();
  const consistency = { provided: translator.resolvedByProxy ?? {} };

  const generate = (entry: ProxyEntry<P>, context: C): Generation => {
    try {
      const { resources, warnings } = translator.generateResources(entry.proxy, context);
      const snapshot = createSnapshot(interner.intern(resources));
      const consistencyProblems = snapshot.consistencyCheck(consistency);
      return { ok: true, snapshot, warnings, consistencyProblems };
    } catch (cause) {
      return { ok: false, error: errorText(cause) };
    }
  };

  /** The proxy's resources under `context`, generated once per view key. */
  const generationFor = (entry: ProxyEntry<P>, context: C, memo: Map<string, Generation>): Generation => {
    let key: string;
    try {
      key = translator.proxyViewKey(entry.proxy, context);
    } catch (cause) {
      return { ok: false, error: `proxy view key: ${errorText(cause)}` };
    }
    let generation = memo.get(key);
    if (generation === undefined) {
      generation = generate(entry, context);
      memo.set(key, generation);
    }
    return generation;
  };

  /** Brings one proxy up to `context`; returns the type URLs it changed. */
  const update = (entry: ProxyEntry<P>, context: C, memo: Map<string, Generation>): TypeUrl[] => {
    const generation = generationFor(entry, context, memo);
    if (!generation.ok) {
      if (entry.generationError !== generation.error) {
        log.error('resource generation failed; the proxy keeps its previous snapshot', {
          nodeId: entry.nodeId,
          pushVersion: context.version,
          error: generation.error,
        });
      }
      entry.generationError = generation.error;
      return [];
    }
    entry.generationError = undefined;
    reportChanges(entry, generation);
    const changed = changedTypeUrls(entry.snapshot, generation.snapshot);
    entry.pushVersion = context.version;
    if (changed.length === 0 && entry.snapshot !== undefined) return [];
    entry.snapshot = generation.snapshot;
    cache.setSnapshot(entry.nodeId, generation.snapshot);
    options.onSnapshotSet?.(entry.nodeId, changed);
    return changed;
  };

  /** Logs warnings and consistency problems when they differ from what this proxy had. */
  const reportChanges = (entry: ProxyEntry<P>, generation: Generation & { ok: true }) => {
    if (!sameStrings(entry.warnings, generation.warnings) && generation.warnings.length > 0) {
      log.warn('translation warnings', { nodeId: entry.nodeId, warnings: generation.warnings });
    }
    if (!sameStrings(entry.consistencyProblems, generation.consistencyProblems)) {
      if (generation.consistencyProblems.length > 0) {
        log.warn('snapshot is not consistent', {
          nodeId: entry.nodeId,
          problems: generation.consistencyProblems,
        });
      }
    }
    entry.warnings = generation.warnings;
    entry.consistencyProblems = generation.consistencyProblems;
  };

  const pushNow = (): PushReport => {
    debounce.cancel();
    const started = now();
    pushCount += 1;
    const version = String(pushCount);
    let context: C;
    try {
      context = translator.createPushContext(store.all(), mesh, version);
    } catch (cause) {
      const error = errorText(cause);
      log.error('push context failed; proxies keep their snapshots', { pushVersion: version, error });
      const report: PushReport = {
        version,
        durationSeconds: (now() - started) / 1000,
        changedTypes: {},
        proxiesUpdated: 0,
        viewsGenerated: 0,
        error,
      };
      options.onPush?.(report);
      return report;
    }
    push = context;
    const memo = new Map<string, Generation>();
    pushMemo = memo;
    const changedTypes: Partial<Record<TypeUrl, number>> = {};
    let proxiesUpdated = 0;
    for (const entry of entries.values()) {
      const changed = update(entry, context, memo);
      if (changed.length > 0) proxiesUpdated += 1;
      for (const t of changed) changedTypes[t] = (changedTypes[t] ?? 0) + 1;
    }
    interner.endPush();
    const report: PushReport = {
      version,
      durationSeconds: (now() - started) / 1000,
      changedTypes,
      proxiesUpdated,
      viewsGenerated: memo.size,
    };
    log.debug('push', { ...report });
    options.onPush?.(report);
    return report;
  };

  const debounce = createDebounce(
    { delayMs: debounceMs, maxDelayMs: options.maxDelayMs ?? debounceMs * 10 },
    () => {
      pushNow();
    },
  );
  const unsubscribe = store.onChange(() => debounce.trigger());

  return {
    connect: (node) => {
      const parsed = translator.parseProxy(node);
      if (!parsed.ok) return { ok: false, reason: parsed.problems.join('; ') };
      const existing = entries.get(node.id);
      // A node id reconnecting before its old stream closed: the newest node wins (its metadata may have changed).
      const entry: ProxyEntry<P> = existing ?? {
        nodeId: node.id,
        proxy: parsed.proxy,
        streams: 0,
        snapshot: undefined,
        pushVersion: undefined,
        warnings: [],
        consistencyProblems: [],
        generationError: undefined,
      };
      entry.proxy = parsed.proxy;
      entry.streams += 1;
      entries.set(node.id, entry);
      // Proxies connecting between pushes share the current push's generations (1000 replicas reconnecting: one translation per view).
      if (push !== undefined) update(entry, push, pushMemo);
      return { ok: true };
    },
    disconnect: (nodeId) => {
      const entry = entries.get(nodeId);
      if (entry === undefined) return;
      entry.streams -= 1;
      if (entry.streams > 0) return;
      entries.delete(nodeId);
      cache.clearSnapshot(nodeId);
    },
    pushNow,
    requestPush: () => debounce.trigger(),
    proxies: () =>
      [...entries.values()].map((e) => ({
        nodeId: e.nodeId,
        type: e.proxy.type,
        streams: e.streams,
        pushVersion: e.pushVersion,
        versions: e.snapshot === undefined ? {} : versionsOf(e.snapshot),
        warnings: e.warnings,
        consistencyProblems: e.consistencyProblems,
        generationError: e.generationError,
      })),
    get pushVersion() {
      return push?.version;
    },
    close: () => {
      unsubscribe();
      debounce.cancel();
    },
  };
}

function versionsOf(snapshot: Snapshot): Partial<Record<TypeUrl, string>> {
  const out: Partial<Record<TypeUrl, string>> = {};
  for (const t of PUSH_ORDER) if (snapshot.resources(t).size > 0) out[t] = snapshot.version(t);
  return out;
}

function errorText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}
