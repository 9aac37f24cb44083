/**
 * The downstream HTTP/1.x server of one connection manager: the set of
 * its live connections (for drain and destroy) and one sweep timer that
 * enforces their deadlines (idle between requests, request head), so no
 * timer is touched per request. The sweep runs only while connections
 * exist, at a period of an eighth of the shortest timeout (20 ms to 1 s).
 */
import type { Duplex } from 'node:stream';
import {
  Http1Connection,
  type Http1Handler,
  type Http1Owner,
  type Http1Settings,
} from './http1-connection.ts';

type Timer = ReturnType<typeof setTimeout>;

/** Timer functions (injected: tests and the proxy's services). */
export interface Http1Timers {
  setTimer(fn: () => void, ms: number): Timer;
  clearTimer(timer: Timer): void;
}

export class Http1Server implements Http1Owner {
  readonly settings: Http1Settings;
  readonly handler: Http1Handler;
  private readonly timers: Http1Timers;
  private readonly connections = new Set<Http1Connection>();
  private readonly sweepMs: number;
  private timer: Timer | undefined;
  private draining = false;

  constructor(settings: Http1Settings, handler: Http1Handler, timers: Http1Timers) {
    this.settings = settings;
    this.handler = handler;
    this.timers = timers;
    const shortest = Math.min(
      ...[settings.idleTimeoutMs, settings.headersTimeoutMs, settings.requestTimeoutMs].map((ms) =>
        ms > 0 ? ms : Number.POSITIVE_INFINITY,
      ),
    );
    this.sweepMs = Math.max(20, Math.min(1000, shortest / 8));
  }

  /** Serves an HTTP/1.x connection (the socket is read from now on). */
  serve(socket: Duplex): void {
    const connection = new Http1Connection(this, socket);
    this.connections.add(connection);
    if (this.draining) connection.drain();
    if (this.timer === undefined && this.connections.size > 0) this.arm();
  }

  /** Live connections (upgraded ones are handed off and no longer counted). */
  get size(): number {
    return this.connections.size;
  }

  forget(connection: Http1Connection): void {
    this.connections.delete(connection);
  }

  /** Stops keep-alive: each connection closes after its next response. Safe to repeat. */
  drain(): void {
    this.draining = true;
    for (const connection of [...this.connections]) connection.drain();
  }

  /** Destroys every connection. */
  destroy(): void {
    this.draining = true;
    for (const connection of [...this.connections]) connection.abort();
    if (this.timer !== undefined) this.timers.clearTimer(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const timer = this.timers.setTimer(this.sweep, this.sweepMs);
    timer.unref?.();
    this.timer = timer;
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    const now = this.settings.now();
    for (const connection of this.connections) {
      if (connection.deadline <= now) connection.onDeadline();
    }
    if (this.connections.size > 0) this.arm();
  };
}
