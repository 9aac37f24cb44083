import { describe, expect, it } from 'vitest';
import { COMMANDS, runCli } from './cli.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) }, out, err };
}

describe('runCli', () => {
  it('lists every registered command in the help', async () => {
    const { io, out } = capture();
    expect(await runCli(['--help'], io)).toBe(0);
    const width = Math.max(...COMMANDS.map((c) => c.name.length));
    for (const command of COMMANDS)
      expect(out.join('')).toContain(`  ${command.name.padEnd(width)}  ${command.summary}`);
  });

  it.each([
    ['an unknown command', ['nope'], 'weft: unknown command "nope"'],
    ['a missing PATH', ['analyze'], 'weft analyze: analyze needs at least one PATH'],
    ['a flag analyze does not know', ['analyze', '-x', 'dir'], "weft analyze: Unknown option '-x'"],
  ])('returns 2 for %s', async (_name, argv, message) => {
    const { io, err } = capture();
    expect(await runCli(argv, io)).toBe(2);
    expect(err.join('')).toContain(message);
  });
});
