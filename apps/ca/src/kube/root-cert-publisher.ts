/**
 * Publishes the CA's trust bundle as ConfigMap `istio-ca-root-cert` (key
 * `root-cert.pem`) in every namespace, as istiod does: workloads mount it to
 * verify the control plane and each other.
 *
 * Two informers (@kubernetes/client-node list+watch): Namespaces, and the
 * ConfigMaps named `istio-ca-root-cert` across all namespaces (field
 * selector). A namespace that appears gets the ConfigMap; a ConfigMap that is
 * deleted is recreated; one whose `root-cert.pem` differs is put back.
 * Namespaces being deleted (phase Terminating) are left alone.
 *
 * Reconciling one namespace is serialized (at most one call chain in flight,
 * a second request marks it dirty and runs once after), reads before it
 * writes, and retries failed calls with capped exponential backoff. An
 * informer that fails is restarted after the same backoff; the CA keeps
 * signing whatever the API server does.
 */
import {
  CoreV1Api,
  type KubeConfig,
  ListWatch,
  type V1ConfigMap,
  type V1Namespace,
  Watch,
} from '@kubernetes/client-node';
import type { Logger } from '@weft/telemetry';
import { STATE_FILES } from '../signing/root-of-trust.ts';
import { apiStatus, describeApiError } from './kube-config.ts';

/** Istio's ConfigMap name for the mesh trust bundle. */
export const ROOT_CERT_CONFIGMAP = 'istio-ca-root-cert';
const ROOT_CERT_KEY = STATE_FILES.rootCert;

export interface RootCertPublisherOptions {
  rootCertPem: string;
  logger: Logger;
  /** First retry delay after a failed call or informer; doubles up to `maxRetryMs`. Default 500 ms. */
  retryMs?: number;
  /** Default 30 s. */
  maxRetryMs?: number;
}

export interface RootCertPublisher {
  /** Resolves when both informers listed once and every namespace seen then was reconciled. */
  synced: Promise<void>;
  /** Stops both informers and pending retries. Safe to call twice. */
  close(): Promise<void>;
}

/** The ConfigMap the CA writes in `namespace`. */
export function rootCertConfigMap(
  namespace: string,
  rootCertPem: string,
  resourceVersion?: string,
): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: ROOT_CERT_CONFIGMAP,
      namespace,
      resourceVersion,
      labels: { 'istio.io/config': 'true', 'app.kubernetes.io/managed-by': 'weft-ca' },
    },
    data: { [ROOT_CERT_KEY]: rootCertPem },
  };
}

/** Starts publishing; the returned `synced` never rejects (failures are retried and logged). */
export function startRootCertPublisher(
  config: KubeConfig,
  options: RootCertPublisherOptions,
): RootCertPublisher {
  const api = config.makeApiClient(CoreV1Api);
  const { rootCertPem, logger } = options;
  const baseRetry = options.retryMs ?? 500;
  const maxRetry = options.maxRetryMs ?? 30_000;
  const watch = new Watch(config);
  const namespaces = new ListWatch<V1Namespace>(
    '/api/v1/namespaces',
    watch,
    () => api.listNamespace(),
    false,
  );
  const configMaps = new ListWatch<V1ConfigMap>(
    '/api/v1/configmaps',
    watch,
    () => api.listConfigMapForAllNamespaces({ fieldSelector: `metadata.name=${ROOT_CERT_CONFIGMAP}` }),
    false,
    undefined,
    `metadata.name=${ROOT_CERT_CONFIGMAP}`,
  );
  let closed = false;
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Map<string, { dirty: boolean; done: Promise<void> }>();

  const later = (ms: number, run: () => void): void => {
    if (closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };

  const wanted = (namespace: string): boolean => {
    const ns = namespaces.get(namespace);
    return ns !== undefined && ns.status?.phase !== 'Terminating';
  };

  /** One read-compare-write pass; returns what it did (for the log) or throws the API error. */
  async function writeOnce(namespace: string): Promise<'created' | 'updated' | 'unchanged'> {
    let current: V1ConfigMap | undefined;
    try {
      current = await api.readNamespacedConfigMap({ name: ROOT_CERT_CONFIGMAP, namespace });
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
    }
    if (!current) {
      await api.createNamespacedConfigMap({ namespace, body: rootCertConfigMap(namespace, rootCertPem) });
      return 'created';
    }
    if (current.data?.[ROOT_CERT_KEY] === rootCertPem) return 'unchanged';
    await api.replaceNamespacedConfigMap({
      name: ROOT_CERT_CONFIGMAP,
      namespace,
      body: {
        ...current,
        data: { ...current.data, [ROOT_CERT_KEY]: rootCertPem },
      },
    });
    return 'updated';
  }

  async function reconcileLoop(namespace: string, state: { dirty: boolean }): Promise<void> {
    let delay = baseRetry;
    while (!closed && state.dirty) {
      state.dirty = false;
      if (!wanted(namespace)) return;
      try {
        const outcome = await writeOnce(namespace);
        if (outcome !== 'unchanged') logger.info(`root cert ConfigMap ${outcome}`, { namespace });
        delay = baseRetry;
      } catch (error) {
        const status = apiStatus(error);
        // 409: someone wrote in between (create race or stale resourceVersion): read again at once.
        if (status === 409) {
          state.dirty = true;
          continue;
        }
        logger.warn('cannot publish root cert ConfigMap; will retry', {
          namespace,
          error: describeApiError(error),
          retryMs: delay,
        });
        state.dirty = true;
        await new Promise<void>((resolve) => later(delay, resolve));
        delay = Math.min(delay * 2, maxRetry);
      }
    }
  }

  /** Asks for `namespace` to be reconciled; joins a pass already running. */
  function reconcile(namespace: string): Promise<void> {
    const running = inFlight.get(namespace);
    if (running) {
      running.dirty = true;
      return running.done;
    }
    const state = { dirty: true, done: Promise.resolve() };
    state.done = reconcileLoop(namespace, state).finally(() => inFlight.delete(namespace));
    inFlight.set(namespace, state);
    return state.done;
  }

  const nameOf = (ns: V1Namespace): string => ns.metadata?.name ?? '';
  namespaces.on('add', (ns) => void reconcile(nameOf(ns)));
  namespaces.on('update', (ns) => void reconcile(nameOf(ns)));
  const onConfigMap = (cm: V1ConfigMap): void => {
    const namespace = cm.metadata?.namespace ?? '';
    if (wanted(namespace) && cm.data?.[ROOT_CERT_KEY] !== rootCertPem) void reconcile(namespace);
  };
  configMaps.on('add', onConfigMap);
  configMaps.on('update', onConfigMap);
  configMaps.on('delete', (cm) => void reconcile(cm.metadata?.namespace ?? ''));

  /** Starts `informer`, restarting it with backoff after each failure; resolves once it has listed. */
  function keepRunning(
    informer: ListWatch<V1Namespace> | ListWatch<V1ConfigMap>,
    what: string,
  ): Promise<void> {
    let delay = baseRetry;
    let listed: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      listed = resolve;
    });
    const run = (): void => {
      if (closed) return;
      // start() resolves after the list and the watch request, or after it reported an error.
      void informer.start().then(() => {
        if (informer.latestResourceVersion() === '') return;
        delay = baseRetry;
        listed();
      });
    };
    informer.on('error', (error) => {
      if (closed) return;
      logger.warn(`${what} informer failed; restarting`, { error: describeApiError(error), retryMs: delay });
      later(delay, run);
      delay = Math.min(delay * 2, maxRetry);
    });
    run();
    return done;
  }

  const synced = Promise.all([keepRunning(namespaces, 'namespace'), keepRunning(configMaps, 'configmap')])
    .then(() => Promise.all(namespaces.list().map((ns) => reconcile(nameOf(ns)))))
    .then(() => undefined);

  let closing: Promise<void> | undefined;
  return {
    synced,
    close: () => {
      closing ??= (async () => {
        closed = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        await Promise.all([namespaces.stop(), configMaps.stop()]);
        await Promise.all([...inFlight.values()].map((s) => s.done));
      })();
      return closing;
    },
  };
}
