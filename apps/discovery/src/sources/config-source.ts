/**
 * The one interface every config source implements: the directory of Istio
 * YAML now, Kubernetes watches later. A source writes what it reads into the
 * shared `ConfigStore` (replacing only its own objects) and keeps its own list
 * of problems; the serving layer reads the store and never the source.
 */
import type { Problem } from '@weft/config';

export interface ConfigSource {
  /** Stable, human-readable name, e.g. `directory:/etc/weft/config`. */
  readonly name: string;
  /**
   * True once the first full read has been written to the store: until then
   * proxies would get a partial view, so `/ready` stays 503.
   */
  readonly ready: boolean;
  /** Reads everything once, then watches. Resolves after the first full read. Call once. */
  start(): Promise<void>;
  /** Stops watching; the store keeps the last objects written. Safe to repeat. */
  stop(): Promise<void>;
  /**
   * The problems of the latest read: each rejected object (skipped; its last
   * good version, if any, stays in the store) with file, line and field path.
   */
  problems(): readonly Problem[];
}
