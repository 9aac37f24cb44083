/**
 * `weft-proxy iptables`: reads what an earlier run installed
 * (`iptables-save -t nat`), then installs the capture rules (or only removes
 * them, `--cleanup`) in one `iptables-restore --noflush` transaction.
 * `--dry-run` prints the restore input for a fresh install and runs nothing.
 */
import { spawn } from 'node:child_process';
import { IPTABLES_HELP, parseIptablesFlags } from './iptables-flags.ts';
import { buildCaptureRules, parseInstalledCapture, renderRestoreInput } from './iptables-rules.ts';

/** Why running an iptables tool failed: `ENOENT` (not installed), `EXIT` (non-zero status). */
export class IptablesError extends Error {
  readonly code: 'ENOENT' | 'EXIT';
  constructor(code: 'ENOENT' | 'EXIT', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IptablesError';
    this.code = code;
  }
}

/** Runs `command args` with `input` on stdin; resolves with stdout, rejects with IptablesError. */
export type RunTool = (command: string, args: readonly string[], input?: string) => Promise<string>;

export const runTool: RunTool = (command, args, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new IptablesError('ENOENT', `${command} not found (install the iptables package)`, {
              cause: error,
            })
          : new IptablesError('EXIT', `${command}: ${error.message}`, { cause: error }),
      ),
    );
    child.on('close', (status) => {
      if (status === 0) resolve(Buffer.concat(out).toString());
      else
        reject(
          new IptablesError(
            'EXIT',
            `${command} ${args.join(' ')} exited ${status}: ${Buffer.concat(err).toString().trim()}`,
          ),
        );
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });

export interface IptablesIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly run: RunTool;
}

/** Runs the subcommand with the arguments after `iptables`; resolves with the exit code. Never rejects. */
export async function runIptablesCommand(argv: readonly string[], io: IptablesIo): Promise<number> {
  const parsed = parseIptablesFlags(argv);
  if (parsed.kind === 'help') {
    io.stdout(IPTABLES_HELP);
    return 0;
  }
  if (parsed.kind === 'error') {
    for (const problem of parsed.problems) io.stderr(`weft-proxy iptables: ${problem}\n`);
    io.stderr('Run weft-proxy iptables --help for usage.\n');
    return 2;
  }
  const rules = buildCaptureRules(parsed.options);
  if (parsed.mode === 'dry-run') {
    io.stdout(renderRestoreInput({ chains: [], jumps: [] }, rules));
    return 0;
  }
  try {
    const installed = parseInstalledCapture(await io.run('iptables-save', ['-t', 'nat']));
    const input = renderRestoreInput(installed, parsed.mode === 'cleanup' ? undefined : rules);
    await io.run('iptables-restore', ['--noflush'], input);
    io.stderr(
      parsed.mode === 'cleanup'
        ? `weft-proxy iptables: removed ${installed.chains.length} chains and ${installed.jumps.length} jumps\n`
        : `weft-proxy iptables: installed ${rules.length} rules (replaced ${installed.jumps.length} jumps)\n`,
    );
    return 0;
  } catch (error) {
    io.stderr(`weft-proxy iptables: ${(error as Error).message}\n`);
    return 1;
  }
}
