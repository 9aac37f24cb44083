/**
 * Runs the built binary as a user would (`dist/main.js`, default export
 * conditions, dependencies from their dist/).
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

describe('weft-proxy binary', () => {
  it('documents every flag in --help', async () => {
    const { stdout } = await run(process.execPath, [bin, '--help']);
    for (const flag of [
      '--discovery',
      '--mode',
      '--node-id',
      '--namespace',
      '--workload',
      '--admin-addr',
      '--listener',
      '--concurrency',
      '--drain-time',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it('exits 2 with a precise message on bad flags', async () => {
    const error = await run(process.execPath, [bin, '--discovery', 'nope']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain('--discovery: expected HOST:PORT');
  });
});
