/**
 * Runs `weft up`'s children: each in its own process group (so a stop
 * reaches its own children too), output appended to a log file, a child that
 * dies restarted with exponential backoff and reported. `stop()` sends
 * SIGTERM to every group, then SIGKILL to what is still alive after a grace
 * period: no orphans.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface ChildSpec {
  /** Short unique name, e.g. `proxy reviews-v1`. */
  readonly name: string;
  /** Arguments to `process.execPath`. */
  readonly args: readonly string[];
  /** File that receives the child's stdout and stderr (appended). */
  readonly logFile: string;
}

export interface ChildEvent {
  readonly kind: 'exited' | 'restarting' | 'spawn-failed';
  readonly name: string;
  readonly detail: string;
}

export interface SupervisorOptions {
  /** Called for every exit and restart while not stopping. */
  readonly onEvent: (event: ChildEvent) => void;
  /** Backoff of the first restart; doubles to `maxBackoffMs`. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A child that ran this long before dying restarts with the initial backoff again. */
  readonly stableAfterMs?: number;
  readonly stopGraceMs?: number;
  readonly now?: () => number;
}

interface Running {
  readonly spec: ChildSpec;
  process: ChildProcess | undefined;
  startedAt: number;
  backoffMs: number;
  restarts: number;
  timer: NodeJS.Timeout | undefined;
  exited: Promise<void>;
}

export interface Supervisor {
  start(spec: ChildSpec): void;
  /** Process ids of the running children (group leaders), by name. */
  pids(): ReadonlyMap<string, number>;
  restarts(name: string): number;
  /** Stops every child (SIGTERM to its group, SIGKILL after the grace period); resolves when all exited. */
  stop(): Promise<void>;
  /** Synchronous last resort (process 'exit'): SIGKILL to every group. */
  killAll(): void;
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

/** Creates a supervisor. */
export function createSupervisor(options: SupervisorOptions): Supervisor {
  const initial = options.initialBackoffMs ?? 200;
  const max = options.maxBackoffMs ?? 5000;
  const stableAfter = options.stableAfterMs ?? 10_000;
  const grace = options.stopGraceMs ?? 5000;
  const now = options.now ?? Date.now;
  const children = new Map<string, Running>();
  let stopping = false;

  function launch(running: Running): void {
    const log = openSync(running.spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...running.spec.args], {
        detached: true,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    running.process = child;
    running.startedAt = now();
    running.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        options.onEvent({ kind: 'spawn-failed', name: running.spec.name, detail: error.message });
        resolve();
      });
      child.once('exit', (code, signal) => {
        resolve();
        if (running.process === child) running.process = undefined;
        if (stopping) return;
        const detail = signal ? `killed by ${signal}` : `exit code ${code}`;
        options.onEvent({ kind: 'exited', name: running.spec.name, detail });
        if (now() - running.startedAt >= stableAfter) running.backoffMs = initial;
        const delay = running.backoffMs;
        running.backoffMs = Math.min(max, running.backoffMs * 2);
        running.restarts++;
        options.onEvent({ kind: 'restarting', name: running.spec.name, detail: `in ${delay} ms` });
        running.timer = setTimeout(() => {
          running.timer = undefined;
          if (!stopping) launch(running);
        }, delay);
      });
    });
  }

  return {
    start(spec) {
      if (children.has(spec.name)) throw new Error(`child ${spec.name} already started`);
      const running: Running = {
        spec,
        process: undefined,
        startedAt: 0,
        backoffMs: initial,
        restarts: 0,
        timer: undefined,
        exited: Promise.resolve(),
      };
      children.set(spec.name, running);
      launch(running);
    },
    pids() {
      const pids = new Map<string, number>();
      for (const [name, running] of children) {
        const pid = running.process?.pid;
        if (pid !== undefined) pids.set(name, pid);
      }
      return pids;
    },
    restarts: (name) => children.get(name)?.restarts ?? 0,
    async stop() {
      stopping = true;
      const all = [...children.values()];
      const groups = all.map((r) => r.process?.pid);
      for (const running of all) {
        if (running.timer) clearTimeout(running.timer);
        signalGroup(running.process?.pid, 'SIGTERM');
      }
      const killer = setTimeout(() => {
        for (const running of all) signalGroup(running.process?.pid, 'SIGKILL');
      }, grace);
      await Promise.all(all.map((r) => r.exited));
      clearTimeout(killer);
      // Grandchildren (e.g. proxy workers) share the group: make sure none outlive it.
      for (const pid of groups) signalGroup(pid, 'SIGKILL');
    },
    killAll() {
      stopping = true;
      for (const running of children.values()) signalGroup(running.process?.pid, 'SIGKILL');
    },
  };
}
