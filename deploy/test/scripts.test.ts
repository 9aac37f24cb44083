/**
 * deploy/kind scripts: they parse, pass shellcheck where it is installed,
 * and stop with a clear message when a tool is missing. (They cannot run
 * here: no Docker engine, no kind.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEPLOY_DIR } from './deploy-fixtures.ts';

const SCRIPTS = ['kind/up.sh', 'kind/down.sh'];

/** A PATH holding only `dirname` and `grep` (what the scripts need before their tool checks). */
const bareBin = mkdtempSync(join(tmpdir(), 'weft-bare-path-'));
for (const tool of ['dirname', 'grep']) {
  const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  symlinkSync(found, join(bareBin, tool));
}
afterAll(() => rmSync(bareBin, { recursive: true, force: true }));

describe('kind scripts', () => {
  it.each(SCRIPTS)('%s parses (bash -n)', (script) => {
    const result = spawnSync('bash', ['-n', join(DEPLOY_DIR, script)], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.for(SCRIPTS)('%s passes shellcheck (when installed)', (script, ctx) => {
    const probe = spawnSync('shellcheck', ['--version']);
    if (probe.status !== 0) {
      ctx.skip('shellcheck is not installed (apt-get install shellcheck)');
      return;
    }
    const result = spawnSync('shellcheck', [join(DEPLOY_DIR, script)], { encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it.each([
    { script: 'kind/up.sh', message: 'up.sh: docker is not installed or not on PATH' },
    { script: 'kind/down.sh', message: 'down.sh: kind is not installed or not on PATH' },
  ])('$script exits 1 naming the missing tool', ({ script, message }) => {
    const bash = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();
    const result = spawnSync(bash, [join(DEPLOY_DIR, script)], {
      encoding: 'utf8',
      env: { PATH: bareBin, HOME: tmpdir() },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
  });
});
