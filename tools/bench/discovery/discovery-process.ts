/**
 * Runs the built weft-discovery binary as a child process and reads its CPU
 * time and resident memory from /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface DiscoveryProcess {
  readonly pid: number;
  readonly xdsAddress: string;
  readonly httpAddress: string;
  /** utime + stime so far, in seconds. */
  cpuSeconds(): number;
  /** Current and peak resident set size, in bytes. */
  memory(): { rss: number; peakRss: number };
  stop(): Promise<void>;
}

const CLOCK_TICKS = 100;

function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state: utime is field 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function memoryOf(pid: number): { rss: number; peakRss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
}

export interface StartDiscoveryOptions {
  binary: string;
  configDir: string;
  debounceMs: number;
  /** V8 old-space limit of weft-discovery in MB (`--max-old-space-size`), if wanted. */
  maxOldSpaceMb?: number;
  /** Directory for a V8 CPU profile (`--cpu-prof`), if wanted. */
  cpuProfDir?: string;
  /** A file that gets weft-discovery's log lines after `ready`, if wanted. */
  logFile?: string;
}

/** Starts the binary on ephemeral loopback ports and resolves once it logged `ready`. */
export function startDiscoveryProcess(options: StartDiscoveryOptions): Promise<DiscoveryProcess> {
  const nodeArgs = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  if (options.maxOldSpaceMb) nodeArgs.push(`--max-old-space-size=${options.maxOldSpaceMb}`);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeArgs,
      options.binary,
      '--config-dir',
      options.configDir,
      '--xds-addr',
      '127.0.0.1:0',
      '--http-addr',
      '127.0.0.1:0',
      '--debounce',
      String(options.debounceMs),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const pid = child.pid ?? 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    let ready = false;
    const lines = createInterface({ input: child.stderr! });
    const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    if (log) child.once('exit', () => log.end());
    lines.on('line', (line) => {
      if (ready) {
        log?.write(`${line}\n`);
        return;
      }
      tail.push(line);
      if (tail.length > 20) tail.shift();
      let parsed: { msg?: string; xdsAddress?: string; httpAddress?: string };
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      if (parsed.msg !== 'ready' || !parsed.xdsAddress || !parsed.httpAddress) return;
      ready = true;
      resolve({
        pid,
        xdsAddress: parsed.xdsAddress,
        httpAddress: parsed.httpAddress,
        cpuSeconds: () => cpuSecondsOf(pid),
        memory: () => memoryOf(pid),
        stop: async () => {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        },
      });
    });
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`weft-discovery exited (${code}) before ready:\n${tail.join('\n')}`));
    });
  });
}
