/**
 * `weft-proxy iptables` through the built binary (`dist/main.js`): the
 * dry run prints restore input for the flags given and needs neither root
 * nor the iptables package; bad flags exit 2 with the flag named.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'main.js');

describe('weft-proxy iptables (binary)', () => {
  it('--dry-run prints the nat table rules for the flags given', async () => {
    const { stdout } = await run(process.execPath, [
      bin,
      'iptables',
      '--dry-run',
      '--proxy-uid',
      '2000',
      '--exclude-inbound-ports',
      '22',
      '--exclude-outbound-cidrs',
      '169.254.169.254/32',
    ]);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('*nat');
    expect(lines).toContain('-A PREROUTING -p tcp -j ISTIO_INBOUND');
    expect(lines).toContain('-A ISTIO_INBOUND -p tcp --dport 22 -j RETURN');
    expect(lines).toContain('-A ISTIO_OUTPUT -m owner --uid-owner 2000 -j RETURN');
    expect(lines).toContain('-A ISTIO_OUTPUT -d 169.254.169.254/32 -j RETURN');
    expect(lines.at(-2)).toBe('COMMIT');
  });

  it('--help lists every flag', async () => {
    const { stdout } = await run(process.execPath, [bin, 'iptables', '--help']);
    for (const flag of [
      '--proxy-uid',
      '--proxy-gid',
      '--inbound-port',
      '--outbound-port',
      '--include-inbound-ports',
      '--exclude-inbound-ports',
      '--include-outbound-cidrs',
      '--exclude-outbound-cidrs',
      '--exclude-outbound-ports',
      '--dry-run',
      '--cleanup',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it('exits 2 naming the bad flag', async () => {
    const error = await run(process.execPath, [bin, 'iptables', '--outbound-port', '0']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain('--outbound-port: expected ports 1-65535');
  });
});
