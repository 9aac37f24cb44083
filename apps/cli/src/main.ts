#!/usr/bin/env node
/**
 * weft: the Weft user CLI (`weft analyze` now; `weft up`, `weft proxy-status` later).
 * Owns: argument parsing and output. Must not depend on: other apps.
 */
import { runCli } from './cli.ts';

const io = {
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
};

runCli(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`weft: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
