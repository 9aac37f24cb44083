/**
 * What proxy-bench.ts drives and measures: a target (an address the load
 * generator sends to, the processes whose CPU and RSS count) and how a
 * weft-proxy target process is started (the built binary, ready once its
 * admin `/ready` answers 200).
 */
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { freePort, PROXY_BIN, stopChild } from '../test/support/processes.ts';

export interface Target {
  readonly name: string;
  readonly port: number;
  /** The Host header of every request (the route tables match on it). */
  readonly host: string;
  /** The proxy processes measured, each with its tree (none for direct). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** Polls `probe` every 50 ms until it holds; rejects after `timeoutMs`. */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface WeftProcess {
  readonly pid: number;
  stop(): Promise<void>;
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
  return { pid: child.pid!, stop };
}
