import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ChildEvent, createSupervisor } from './supervisor.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('createSupervisor', () => {
  it('restarts a child that dies, with backoff, and reports it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supervisor-'));
    const events: ChildEvent[] = [];
    const supervisor = createSupervisor({ onEvent: (e) => events.push(e), initialBackoffMs: 20 });
    supervisor.start({ name: 'crasher', args: ['-e', 'process.exit(3)'], logFile: join(dir, 'crasher.log') });
    await until(() => supervisor.restarts('crasher') >= 2);
    await supervisor.stop();
    expect(events.slice(0, 2)).toEqual([
      { kind: 'exited', name: 'crasher', detail: 'exit code 3' },
      { kind: 'restarting', name: 'crasher', detail: 'in 20 ms' },
    ]);
    expect(events.find((e) => e.detail === 'in 40 ms')).toBeDefined();
  });

  it('stops every child and its own children (no orphans)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supervisor-'));
    const pidFile = join(dir, 'grandchild.pid');
    const script = `
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(g.pid));
      process.on('SIGTERM', () => {}); // ignores SIGTERM: the supervisor must escalate
      setInterval(() => {}, 1000);`;
    const supervisor = createSupervisor({ onEvent: () => {}, stopGraceMs: 300 });
    supervisor.start({ name: 'stubborn', args: ['-e', script], logFile: join(dir, 'stubborn.log') });
    await until(async () => (await readFile(pidFile, 'utf8').catch(() => '')) !== '');
    const child = supervisor.pids().get('stubborn')!;
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    expect(alive(child) && alive(grandchild)).toBe(true);
    await supervisor.stop();
    await until(() => !alive(child) && !alive(grandchild));
  });
});
