#!/usr/bin/env node
/**
 * The `weft-ca` command: serve the CA, or `weft-ca token ...` to mint a
 * local-mode workload token (printed alone on stdout, like `kubectl create token`).
 * Exit codes: 0 ok, 1 runtime failure, 2 bad flags.
 */
import { formatProblems } from '@weft/pki';
import { createLogger } from '@weft/telemetry';
import { loadTokenSigningKey, mintLocalToken } from './authn/local-token.ts';
import { parseServeFlags, parseTokenFlags, SERVE_HELP } from './config/flags.ts';
import { startCa } from './start-ca.ts';

async function runToken(argv: string[]): Promise<number> {
  const flags = parseTokenFlags(argv);
  if (flags.ok === 'help') {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  if (!flags.ok) {
    process.stderr.write(`weft-ca token: ${formatProblems(flags.problems)}\n`);
    return 2;
  }
  const key = await loadTokenSigningKey(flags.options.stateDir);
  process.stdout.write(`${await mintLocalToken(key, flags.options)}\n`);
  return 0;
}

async function runServe(argv: string[]): Promise<number> {
  const flags = parseServeFlags(argv);
  if (flags.ok === 'help') {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  if (!flags.ok) {
    process.stderr.write(`weft-ca: ${formatProblems(flags.problems)}\n(see weft-ca --help)\n`);
    return 2;
  }
  const logger = createLogger({ name: 'weft-ca', level: flags.options.logLevel });
  const ca = await startCa(flags.options, { logger });
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info('shutting down', { signal });
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await ca.close();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  try {
    return argv[0] === 'token' ? await runToken(argv.slice(1)) : await runServe(argv);
  } catch (error) {
    const e = error as Error & { code?: string; cause?: Error };
    process.stderr.write(`weft-ca: ${e.message}${e.cause?.message ? `: ${e.cause.message}` : ''}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
