/**
 * Per-node snapshot cache: the discovery server sets a snapshot per node id;
 * the ADS server watches a node and is told when its snapshot changes.
 *
 * The server depends only on this interface (`getSnapshot` + `watch`), so a
 * cache can be swapped (go-control-plane's rule).
 */
import type { Snapshot } from './snapshot.ts';

export interface SnapshotCache {
  /** Publishes a snapshot for a node and notifies that node's watchers (only if it is a different object). */
  setSnapshot(nodeId: string, snapshot: Snapshot): void;
  getSnapshot(nodeId: string): Snapshot | undefined;
  /** Forgets a node's snapshot; watchers stay registered and get the next one. */
  clearSnapshot(nodeId: string): void;
  /**
   * Calls `onSnapshot` with every snapshot later set for `nodeId` (and at once,
   * synchronously, with the current one if there is one). Returns the cancel
   * function; safe to call more than once.
   */
  watch(nodeId: string, onSnapshot: (snapshot: Snapshot) => void): () => void;
  /** Node ids that have a snapshot. */
  nodeIds(): string[];
}

/** An in-memory SnapshotCache. Watchers are called synchronously; a throwing watcher does not stop the others. */
export function createSnapshotCache(
  options: { onWatcherError?: (error: unknown) => void } = {},
): SnapshotCache {
  const snapshots = new Map<string, Snapshot>();
  const watchers = new Map<string, Set<(snapshot: Snapshot) => void>>();
  const notify = (listener: (snapshot: Snapshot) => void, snapshot: Snapshot): void => {
    try {
      listener(snapshot);
    } catch (error) {
      options.onWatcherError?.(error);
    }
  };
  return {
    setSnapshot(nodeId, snapshot) {
      if (snapshots.get(nodeId) === snapshot) return;
      snapshots.set(nodeId, snapshot);
      for (const listener of [...(watchers.get(nodeId) ?? [])]) notify(listener, snapshot);
    },
    getSnapshot: (nodeId) => snapshots.get(nodeId),
    clearSnapshot(nodeId) {
      snapshots.delete(nodeId);
    },
    watch(nodeId, onSnapshot) {
      let set = watchers.get(nodeId);
      if (!set) {
        set = new Set();
        watchers.set(nodeId, set);
      }
      const listener = (snapshot: Snapshot): void => onSnapshot(snapshot);
      set.add(listener);
      const current = snapshots.get(nodeId);
      if (current) notify(listener, current);
      return () => {
        const live = watchers.get(nodeId);
        live?.delete(listener);
        if (live?.size === 0) watchers.delete(nodeId);
      };
    },
    nodeIds: () => [...snapshots.keys()],
  };
}
