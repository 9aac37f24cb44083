/**
 * Flow control for responses across all streams of an ADS server.
 *
 * grpc-js copies every response into a framed Buffer when it starts writing
 * it, and that Buffer lives until HTTP/2 flow control lets the client have
 * it. 1000 proxies connecting at once would otherwise hold their whole
 * initial config (about 0.8 MB each at 1000 services) off-heap at the same
 * time. A write budget lets responses start only while the bytes in flight
 * (started, not yet handed to the connection) stay under a limit; the rest
 * wait as small response objects that share their encoded resources. Each
 * stream keeps its own order; waiting streams take turns.
 */

/** One stream's queue in the budget. */
export interface WriteQueue {
  /**
   * Starts `write` now if the budget has room (or nothing is in flight),
   * else when it has. `write` must call `done` once the response was handed
   * to the connection; `done` is safe to call more than once.
   */
  push(bytes: number, write: (done: () => void) => void): void;
  /** Drops what still waits and releases what is in flight (the stream ended). Safe to repeat. */
  close(): void;
}

export interface WriteBudget {
  queue(): WriteQueue;
  /** Bytes of started responses not yet handed to their connections. */
  inFlightBytes(): number;
  /** Responses waiting for room, over all streams. */
  waitingWrites(): number;
}

interface PendingWrite {
  readonly bytes: number;
  readonly write: (done: () => void) => void;
}

interface QueueState {
  readonly pending: PendingWrite[];
  readonly started: Set<() => void>;
  closed: boolean;
}

/** Creates a budget of `maxBytes` in flight (a single response larger than that still goes, alone). */
export function createWriteBudget(maxBytes: number): WriteBudget {
  let inFlight = 0;
  let waiting = 0;
  /** Queues with pending writes, in turn order. */
  const turns: QueueState[] = [];
  let pumping = false;

  const fits = (bytes: number): boolean => inFlight === 0 || inFlight + bytes <= maxBytes;

  const start = (queue: QueueState, item: PendingWrite): void => {
    inFlight += item.bytes;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      inFlight -= item.bytes;
      queue.started.delete(release);
      pump();
    };
    queue.started.add(release);
    item.write(release);
  };

  const pump = (): void => {
    if (pumping) return;
    pumping = true;
    try {
      while (turns.length > 0) {
        const queue = turns[0] as QueueState;
        const item = queue.pending[0];
        if (item === undefined || queue.closed) {
          turns.shift();
          continue;
        }
        if (!fits(item.bytes)) return;
        turns.shift();
        queue.pending.shift();
        waiting -= 1;
        if (queue.pending.length > 0) turns.push(queue);
        start(queue, item);
      }
    } finally {
      pumping = false;
    }
  };

  return {
    queue() {
      const state: QueueState = { pending: [], started: new Set(), closed: false };
      return {
        push(bytes, write) {
          if (state.closed) return;
          const item = { bytes, write };
          // Straight through only when no stream waits: waiting streams keep their turn.
          if (state.pending.length === 0 && turns.length === 0 && !pumping && fits(bytes)) {
            start(state, item);
            return;
          }
          if (state.pending.length === 0) turns.push(state);
          state.pending.push(item);
          waiting += 1;
          pump();
        },
        close() {
          if (state.closed) return;
          state.closed = true;
          waiting -= state.pending.length;
          state.pending.length = 0;
          for (const release of [...state.started]) release();
        },
      };
    },
    inFlightBytes: () => inFlight,
    waitingWrites: () => waiting,
  };
}
