#!/usr/bin/env node
/**
 * weft-proxy's entry point. Before anything heavy is loaded, a process
 * that will serve re-executes itself (same pid, `process.execve`) with the
 * V8 heap flags of workers/v8-flags.ts when they are missing, since V8 sizes
 * its heap only at start; then proxy-command.ts parses the flags and runs
 * the proxy (or the `iptables` subcommand).
 */
import { relaunchArgs } from './workers/v8-flags.ts';

const relaunch = relaunchArgs(process.argv, process.execArgv, process.env.NODE_OPTIONS);
// Not with an IPC channel (a fork()ed process, e.g. a cluster worker, which inherits the flags
// anyway): the channel's descriptor would not survive the exec.
if (relaunch && process.channel === undefined && typeof process.execve === 'function') {
  try {
    process.execve(process.execPath, [process.execPath, ...relaunch]);
  } catch (error) {
    // Serving with V8's default heap sizes beats not serving.
    process.stderr.write(
      `weft-proxy: could not re-execute with V8 heap flags: ${(error as Error).message}\n`,
    );
  }
}
await import('./proxy-command.ts');
