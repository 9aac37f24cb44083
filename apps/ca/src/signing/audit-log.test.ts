import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AuditRecord, openAuditLog } from './audit-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function entry(serial: string): AuditRecord {
  return {
    serial,
    spiffeId: 'spiffe://cluster.local/ns/a/sa/x',
    notBefore: new Date(Date.UTC(2026, 0, 1)),
    notAfter: new Date(Date.UTC(2026, 0, 2)),
    keyType: 'EC P-256',
    caller: { method: 'local-token', subject: 'system:serviceaccount:a:x' },
  };
}

describe('openAuditLog', () => {
  it('appends one JSON line per record, in order, to a 0600 file, across reopenings', async () => {
    const path = join(dir, 'audit.log');
    const clock = () => Date.UTC(2026, 0, 1, 0, 0, 1);
    const first = openAuditLog(path, clock, (e) => {
      throw e;
    });
    for (const serial of ['01', '02', '03']) first.record(entry(serial));
    await first.close();
    const second = openAuditLog(path, clock, (e) => {
      throw e;
    });
    second.record(entry('04'));
    await second.close();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.serial)).toEqual(['01', '02', '03', '04']);
    expect(lines[0]).toEqual({
      time: '2026-01-01T00:00:01.000Z',
      event: 'certificate-issued',
      serial: '01',
      spiffeId: 'spiffe://cluster.local/ns/a/sa/x',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-01-02T00:00:00.000Z',
      keyType: 'EC P-256',
      caller: { method: 'local-token', subject: 'system:serviceaccount:a:x' },
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('reports a file it cannot open through onError', async () => {
    const errors: Error[] = [];
    const log = openAuditLog(join(dir, 'missing-dir', 'audit.log'), Date.now, (e) => errors.push(e));
    log.record(entry('05'));
    await expect.poll(() => errors.length, { timeout: 2000 }).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ code: 'ENOENT' });
  });
});
