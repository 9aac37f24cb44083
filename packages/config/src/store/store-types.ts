/**
 * The config store contract: typed objects keyed by kind/namespace/name,
 * with change events, and sources that feed it.
 */
import type { ConfigObject, Kind } from '../resources/resource-types.ts';
import type { Problem } from '../validation/problem.ts';

export type ConfigEvent = {
  type: 'add' | 'update' | 'delete';
  object: ConfigObject;
  previous?: ConfigObject;
};

export type ConfigListener = (events: readonly ConfigEvent[]) => void;

/**
 * In-memory store. Every mutation that changes something bumps `revision`
 * once and calls listeners synchronously with the batch of events, in order.
 * Applying an object equal to the stored one is a no-op (no event).
 */
export interface ConfigStore {
  get<K extends Kind>(kind: K, namespace: string, name: string): ConfigObject<K> | undefined;
  /** Objects of `kind`, in `namespace` if given, sorted by namespace then name. */
  list<K extends Kind>(kind: K, namespace?: string): ConfigObject<K>[];
  all(): ConfigObject[];
  readonly revision: number;
  apply(object: ConfigObject): void;
  delete(kind: Kind, namespace: string, name: string): void;
  /**
   * Replace everything `sourceId` put before with `objects`; diffs and emits one
   * batch of events. An object belongs to its last writer: keys another source
   * or an `apply` overwrote since are not deleted. Within `objects` the first
   * object of a key wins.
   */
  replaceAll(sourceId: string, objects: readonly ConfigObject[]): void;
  /** Returns an unsubscribe function. */
  onChange(listener: ConfigListener): () => void;
}

/** The logging surface config needs; `@weft/telemetry`'s Logger satisfies it. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface DirectorySourceOptions {
  dir: string;
  store: ConfigStore;
  /** Quiet period after a file change before reloading; default 50. */
  debounceMs?: number;
  logger?: Logger;
  /** Called after every load with all current problems. */
  onProblems?: (problems: readonly Problem[]) => void;
}

/**
 * Feeds a store from a directory of YAML, watching for changes. A file that
 * stops parsing keeps its previous objects in the store (its problems are
 * reported); a valid object that disappears from a valid file is deleted.
 */
export interface DirectorySource {
  /** Loads once, then watches. Resolves after the first load reached the store. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Problems of the latest load. */
  problems(): readonly Problem[];
  readonly dir: string;
}
