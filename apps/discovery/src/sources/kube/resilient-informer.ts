/**
 * One list+watch of a Kubernetes collection on @kubernetes/client-node's
 * `ListWatch`: list, then watch from the list's resourceVersion; a 410 Gone
 * (HTTP status or an ERROR event with code 410) makes it re-list, deleting
 * what vanished. `ListWatch` stops for good on any other error; this wrapper
 * starts it again after an exponential backoff with jitter, resuming the
 * watch from the last resourceVersion it saw.
 */
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import type { Logger } from '@weft/telemetry';

/** Retry timing after an error: `initialMs * 2^n`, capped at `maxMs`, each delay scaled by a random 50..100%. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

export interface ResilientInformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** The collection path, e.g. `/api/v1/services`. */
  path: string;
  /** Lists the whole collection (a typed client call). */
  list: () => Promise<KubernetesListObject<T>>;
  /** Called after each object is added, updated or deleted in the cache (also during re-lists). */
  onEvent: (type: 'add' | 'update' | 'delete', object: T) => void;
  logger?: Logger;
  backoff?: BackoffOptions;
  /** Source of jitter in [0, 1); default Math.random. */
  random?: () => number;
}

export interface ResilientInformer<T extends KubernetesObject> {
  readonly path: string;
  /** True once a list has succeeded: the cache holds the whole collection. */
  readonly synced: boolean;
  /** Resolves when `synced` first becomes true. */
  readonly whenSynced: Promise<void>;
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  /** Starts listing and watching; retries until `stop`. Call once. */
  start(): void;
  /** Stops the watch and any pending retry. Safe to repeat. */
  stop(): Promise<void>;
}

/** The delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, backoff: BackoffOptions, random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + random() / 2));
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const status =
      (error as { statusCode?: unknown; code?: unknown }).statusCode ?? (error as { code?: unknown }).code;
    return status === undefined ? error.message : `${error.message} (${String(status)})`;
  }
  return String(error);
}

/** Creates an informer; nothing is requested until `start()`. */
export function createResilientInformer<T extends KubernetesObject>(
  options: ResilientInformerOptions<T>,
): ResilientInformer<T> {
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;
  let synced = false;
  let stopped = false;
  let attempt = 0;
  let retry: NodeJS.Timeout | undefined;
  let resolveSynced: () => void = () => {};
  const whenSynced = new Promise<void>((resolve) => {
    resolveSynced = resolve;
  });
  const list = async (): Promise<KubernetesListObject<T>> => {
    const result = await options.list();
    attempt = 0;
    if (!synced) {
      synced = true;
      // ListWatch adds the listed items right after this resolves, in the same turn; report after that.
      queueMicrotask(resolveSynced);
    }
    return result;
  };
  // ListWatch waits through delayFn before re-watching after a closed watch; a
  // delay still pending at stop() never ends, so no watch opens after stop.
  const delays = new Set<NodeJS.Timeout>();
  const delayFn = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (stopped) return;
      const delay = setTimeout(() => {
        delays.delete(delay);
        resolve();
      }, ms);
      delays.add(delay);
    });
  const informer = new ListWatch<T>(
    options.path,
    new Watch(options.kubeConfig),
    list,
    false,
    undefined,
    undefined,
    { delayFn },
  );
  informer.on('add', (object) => options.onEvent('add', object));
  informer.on('update', (object) => options.onEvent('update', object));
  informer.on('delete', (object) => options.onEvent('delete', object));
  informer.on('error', (error: unknown) => {
    if (stopped) return;
    const delayMs = backoffDelay(attempt, backoff, random);
    attempt++;
    options.logger?.warn('kubernetes list/watch failed; retrying', {
      path: options.path,
      error: describeError(error),
      retryInMs: delayMs,
    });
    retry = setTimeout(() => {
      retry = undefined;
      run();
    }, delayMs);
  });
  const run = (): void => {
    if (stopped) return;
    informer.start().catch((error: unknown) => {
      options.logger?.error('kubernetes informer failed to start', {
        path: options.path,
        error: describeError(error),
      });
    });
  };
  return {
    path: options.path,
    get synced() {
      return synced;
    },
    whenSynced,
    list: () => informer.list(),
    get: (name, namespace) => informer.get(name, namespace),
    start: run,
    stop: async () => {
      stopped = true;
      for (const delay of delays) clearTimeout(delay);
      delays.clear();
      if (retry) clearTimeout(retry);
      retry = undefined;
      await informer.stop();
    },
  };
}
