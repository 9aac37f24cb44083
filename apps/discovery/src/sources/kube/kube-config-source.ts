/**
 * The Kubernetes config source: informers on Services, EndpointSlices, Pods,
 * Nodes, Namespaces and the Istio kinds the cluster serves, feeding the same
 * config store the directory source feeds. Istio objects are validated
 * (invalid ones reported and skipped, the last good version kept); Services
 * with their EndpointSlices become ServiceEntries (`kube-service-entries.ts`).
 *
 * Ordering: API discovery first (which Istio kinds, at which version), then
 * every informer lists and watches; `start()` resolves, and `ready` turns
 * true, only after every informer's first list, and the first write to the
 * store holds all of them, so no proxy sees a partial cluster.
 */
import {
  ApisApi,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type {
  ConfigStore,
  KubernetesEndpointSliceInput,
  KubernetesServiceInput,
  MeshConfig,
  Problem,
} from '@weft/config';
import type { Logger } from '@weft/telemetry';
import type { ConfigSource } from '../config-source.ts';
import { createIstioObjectTracker } from './istio-object-tracker.ts';
import { ISTIO_GROUPS, type IstioWatchPlan, planIstioWatches, type ServedGroup } from './kube-kinds.ts';
import {
  createServiceEntryBuilder,
  type KubernetesInventory,
  type KubernetesLabelledInput,
  type KubernetesPodInput,
} from './kube-service-entries.ts';
import {
  type BackoffOptions,
  backoffDelay,
  createResilientInformer,
  DEFAULT_BACKOFF,
  type ResilientInformer,
} from './resilient-informer.ts';

export interface KubeConfigSourceOptions {
  kubeConfig: KubeConfig;
  store: ConfigStore;
  /** Only `domainSuffix` is read (Service hostnames). */
  mesh: MeshConfig;
  logger?: Logger;
  /** Called whenever the set of problems changes, with all current problems. */
  onProblems?: (problems: readonly Problem[]) => void;
  /** Quiet period after a cluster change before the store is rewritten, in ms; default 10. */
  debounceMs?: number;
  backoff?: BackoffOptions;
  /** How long `start()` waits for API discovery and every first list; default 60000 ms. */
  syncTimeoutMs?: number;
  /** While some Istio kind is not served: how often API discovery runs again to pick up new CRDs; default 60000 ms. */
  rediscoverMs?: number;
  random?: () => number;
}

/** Runtime failure of the Kubernetes source; `code` is stable. */
export class KubeSourceError extends Error {
  readonly code: 'SYNC_TIMEOUT' | 'STOPPED';
  constructor(code: 'SYNC_TIMEOUT' | 'STOPPED', message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'KubeSourceError';
    this.code = code;
  }
}

/** The store's owner id for everything this source writes. */
export const KUBE_SOURCE_ID = 'kubernetes';

type Item = KubernetesObject;

function asList<T extends Item>(value: unknown): KubernetesListObject<T> {
  return value as KubernetesListObject<T>;
}

function named(object: Item): object is Item & { metadata: { name: string } } {
  return typeof object.metadata?.name === 'string';
}

function namespaced<T>(objects: readonly Item[]): T[] {
  return objects.filter((o) => named(o) && typeof o.metadata?.namespace === 'string') as unknown as T[];
}

/** Creates the source; nothing is requested until `start()`. */
export function createKubeConfigSource(options: KubeConfigSourceOptions): ConfigSource {
  const { kubeConfig, logger } = options;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const apis = kubeConfig.makeApiClient(ApisApi);
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;
  const debounceMs = options.debounceMs ?? 10;
  const tracker = createIstioObjectTracker();
  const buildServiceEntries = createServiceEntryBuilder(options.mesh);
  const informers: ResilientInformer<Item>[] = [];
  let ready = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastProblems = '[]';
  let cancelStart: (error: KubeSourceError) => void = () => {};
  let rediscovery: NodeJS.Timeout | undefined;
  const watchedKinds = new Set<string>();

  const schedule = (): void => {
    if (!ready || stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      rebuild();
    }, debounceMs);
  };
  const informer = <T extends Item>(
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    onEvent: (type: 'add' | 'update' | 'delete', object: T) => void = () => {},
  ): ResilientInformer<T> => {
    const created = createResilientInformer<T>({
      kubeConfig,
      path,
      list,
      onEvent: (type, object) => {
        onEvent(type, object);
        schedule();
      },
      backoff,
      random,
      ...(logger ? { logger } : {}),
    });
    informers.push(created as unknown as ResilientInformer<Item>);
    return created;
  };

  const services = informer('/api/v1/services', () => core.listServiceForAllNamespaces());
  const slices = informer('/apis/discovery.k8s.io/v1/endpointslices', () =>
    discovery.listEndpointSliceForAllNamespaces(),
  );
  const pods = informer('/api/v1/pods', () => core.listPodForAllNamespaces());
  const nodes = informer('/api/v1/nodes', () => core.listNode());
  const namespaces = informer('/api/v1/namespaces', () => core.listNamespace());

  const inventory: KubernetesInventory = {
    get services() {
      return namespaced<KubernetesServiceInput>(services.list());
    },
    get endpointSlices() {
      return namespaced<KubernetesEndpointSliceInput>(slices.list());
    },
    pod: (namespace, name) => pods.get(name, namespace) as unknown as KubernetesPodInput | undefined,
    node: (name) => nodes.get(name) as unknown as KubernetesLabelledInput | undefined,
    namespace: (name) => namespaces.get(name) as unknown as KubernetesLabelledInput | undefined,
  };

  function rebuild(): void {
    const istio = tracker.objects();
    const istioEntries = new Set(
      istio.filter((o) => o.kind === 'ServiceEntry').map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
    );
    const generated = buildServiceEntries(inventory, (ns, name) => istioEntries.has(`${ns}/${name}`));
    options.store.replaceAll(KUBE_SOURCE_ID, [...istio, ...generated]);
    const problems = tracker.problems();
    const text = JSON.stringify(problems);
    if (text !== lastProblems) {
      lastProblems = text;
      options.onProblems?.(problems);
    }
  }

  /** One API discovery round: which Istio kinds the cluster serves, and at which version. */
  async function discoverOnce(): Promise<IstioWatchPlan> {
    const groupList = await apis.getAPIVersions();
    const groups: ServedGroup[] = (groupList.groups ?? [])
      .filter((g) => ISTIO_GROUPS.includes(g.name))
      .map((g) => ({
        name: g.name,
        versions: (g.versions ?? []).map((v) => v.version),
        ...(g.preferredVersion ? { preferredVersion: g.preferredVersion.version } : {}),
      }));
    const served = new Map<string, Set<string>>();
    for (const group of groups) {
      for (const version of group.versions) {
        const list = await custom.getAPIResources({ group: group.name, version });
        served.set(`${group.name}/${version}`, new Set((list.resources ?? []).map((r) => r.name)));
      }
    }
    return planIstioWatches(groups, (group, version) => served.get(`${group}/${version}`) ?? new Set());
  }

  /** `discoverOnce`, retried with backoff until the API server answers or the source stops. */
  async function discoverIstioKinds(): Promise<IstioWatchPlan> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await discoverOnce();
      } catch (error) {
        if (stopped) throw new KubeSourceError('STOPPED', 'the Kubernetes source was stopped');
        const delayMs = backoffDelay(attempt, backoff, random);
        logger?.warn('kubernetes API discovery failed; retrying', {
          error: error instanceof Error ? error.message : String(error),
          retryInMs: delayMs,
        });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  /** Creates (not starts) an informer for each planned Istio kind not watched yet; returns them. */
  function watchIstioKinds(plan: IstioWatchPlan): ResilientInformer<Item>[] {
    const added: ResilientInformer<Item>[] = [];
    for (const watch of plan.watches) {
      if (watchedKinds.has(watch.kind)) continue;
      watchedKinds.add(watch.kind);
      added.push(
        informer(
          watch.path,
          async () =>
            asList<Item>(
              await custom.listClusterCustomObject({
                group: watch.group,
                version: watch.version,
                plural: watch.plural,
              }),
            ),
          (type, object) => {
            if (type === 'delete') {
              tracker.remove(watch.kind, object.metadata?.namespace ?? '', object.metadata?.name ?? '');
            } else {
              tracker.upsert(object, watch.kind);
            }
          },
        ),
      );
    }
    return added;
  }

  /**
   * After start-up: a CRD installed later is picked up by the next discovery
   * round. A failed round is logged and tried again at the next interval.
   */
  async function rediscover(): Promise<void> {
    const plan = await discoverOnce();
    if (stopped) return;
    for (const added of watchIstioKinds(plan)) {
      logger?.info('Istio kind now served by the cluster; watching it', { path: added.path });
      added.start();
    }
  }

  async function run(): Promise<void> {
    const plan = await discoverIstioKinds();
    for (const line of plan.missing) logger?.warn('Istio kind not served by the cluster', { detail: line });
    watchIstioKinds(plan);
    if (stopped) throw new KubeSourceError('STOPPED', 'the Kubernetes source was stopped');
    for (const each of informers) each.start();
    await Promise.all(informers.map((each) => each.whenSynced));
    if (stopped) throw new KubeSourceError('STOPPED', 'the Kubernetes source was stopped');
    ready = true;
    rebuild();
    logger?.info('kubernetes source synced', {
      watches: informers.map((each) => each.path),
      istioKindsMissing: plan.missing.length,
    });
    if (plan.missing.length > 0) {
      rediscovery = setInterval(() => {
        rediscover().catch((error: unknown) =>
          logger?.warn('kubernetes API discovery failed', {
            error: error instanceof Error ? error.message : String(error),
          }),
        );
      }, options.rediscoverMs ?? 60_000);
      rediscovery.unref();
    }
  }

  return {
    name: `kubernetes:${kubeConfig.getCurrentCluster()?.server ?? 'unknown'}`,
    get ready() {
      return ready;
    },
    start: async () => {
      const timeoutMs = options.syncTimeoutMs ?? 60_000;
      let deadline: NodeJS.Timeout | undefined;
      const cancelled = new Promise<never>((_, reject) => {
        cancelStart = reject;
        deadline = setTimeout(() => {
          const waiting = informers.filter((each) => !each.synced).map((each) => each.path);
          reject(
            new KubeSourceError(
              'SYNC_TIMEOUT',
              `the Kubernetes API did not answer within ${timeoutMs} ms${waiting.length > 0 ? `; not listed yet: ${waiting.join(', ')}` : ''}`,
            ),
          );
        }, timeoutMs);
      });
      try {
        await Promise.race([run(), cancelled]);
      } finally {
        clearTimeout(deadline);
      }
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (rediscovery) clearInterval(rediscovery);
      timer = undefined;
      cancelStart(new KubeSourceError('STOPPED', 'the Kubernetes source was stopped'));
      await Promise.all(informers.map((each) => each.stop()));
    },
    problems: () => tracker.problems(),
  };
}
