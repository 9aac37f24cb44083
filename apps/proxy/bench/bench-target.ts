/**
 * What proxy-bench.ts drives and measures: a target (an address the load
 * generator sends to, the processes whose CPU and RSS count, and how to
 * check the requests really crossed it) and how a weft-proxy target process
 * is started (the built binary, ready once its admin `/ready` answers 200).
 */
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { freePort, PROXY_BIN, stopChild } from '../test/support/processes.ts';
import type { Protocol } from './bench-protocols.ts';

/** `direct`: the backend itself; `weft`/`haproxy`: one proxy; `pair`: client sidecar -> server sidecar. */
export type TargetKind = 'direct' | 'weft' | 'haproxy' | 'pair';

export interface Target {
  readonly name: string;
  readonly protocol: Protocol;
  readonly kind: TargetKind;
  readonly port: number;
  /** The Host header / :authority of every request (the route tables match on it). */
  readonly host: string;
  /** The proxy processes measured, each with its tree (none for direct). */
  readonly pids: readonly number[];
  /** Requests the backend behind the target has answered so far. */
  served(): Promise<number>;
  /**
   * Per weft-proxy process of the target (in `pids` order; none for other
   * kinds): upstream requests so far, summed over its clusters' admin
   * `/stats` `upstream_rq_total`.
   */
  upstreamRequests(): Promise<readonly number[]>;
  stop(): Promise<void>;
}

/** Polls `probe` every 50 ms until it holds; rejects after `timeoutMs` (also when a probe never settles). */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), Math.max(0, deadline - Date.now()));
    });
    const held = await Promise.race([probe().catch(() => false), expired]);
    clearTimeout(timer);
    if (held === true) return;
    if (held === 'expired' || Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface WeftProcess {
  readonly pid: number;
  /** `upstream_rq_total` summed over every cluster in the admin `/stats` (all workers). */
  upstreamRequests(): Promise<number>;
  stop(): Promise<void>;
}

/** Sums `cluster.<name>.upstream_rq_total: N` lines of an admin `/stats` text. */
export function sumUpstreamRequests(stats: string): number {
  let total = 0;
  for (const match of stats.matchAll(/^cluster\.\S+\.upstream_rq_total: (\d+)$/gm)) total += Number(match[1]);
  return total;
}

/**
 * Spawns the built weft-proxy with `args` plus an ephemeral admin address,
 * `--drain-time 0` and `--log-level error`; with `profileDir`, under
 * `--cpu-prof`. Resolves once `/ready` answers 200 (the proxy is stopped
 * and the promise rejects after 20 s).
 */
export async function spawnWeftProxy(
  name: string,
  args: readonly string[],
  profileDir?: string,
): Promise<WeftProcess> {
  const admin = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      PROXY_BIN,
      ...args,
      '--admin-addr',
      `127.0.0.1:${admin}`,
      '--drain-time',
      '0',
      '--log-level',
      'error',
    ],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    await stopChild(child);
  };
  await until(`${name} ready`, async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}`);
    const response = await request(`http://127.0.0.1:${admin}/ready`);
    await response.body.dump();
    return response.statusCode === 200;
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  const upstreamRequests = async (): Promise<number> => {
    const response = await request(`http://127.0.0.1:${admin}/stats`);
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${name} /stats answered ${response.statusCode}`);
    return sumUpstreamRequests(text);
  };
  return { pid: child.pid!, upstreamRequests, stop };
}
