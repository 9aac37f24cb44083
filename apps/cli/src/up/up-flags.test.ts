import { describe, expect, it } from 'vitest';
import { parseUpFlags } from './up-flags.ts';

describe('parseUpFlags', () => {
  it('defaults to examples/bookinfo on 8080 with its app', () => {
    expect(parseUpFlags([])).toEqual({
      kind: 'ok',
      flags: {
        configDir: 'examples/bookinfo',
        gatewayPort: 8080,
        exitAfterMs: undefined,
        json: false,
        stateDir: undefined,
        app: 'examples/bookinfo/app/main.ts',
        plaintext: false,
        traceConsole: false,
      },
    });
  });

  it('reads DIR, --exit-after and --json', () => {
    const parsed = parseUpFlags(['mine', '--exit-after', '20s', '--json', '--gateway-port', '9999']);
    expect(parsed).toMatchObject({
      kind: 'ok',
      flags: {
        configDir: 'mine',
        exitAfterMs: 20_000,
        json: true,
        gatewayPort: 9999,
        app: 'mine/app/main.ts',
      },
    });
  });

  it.each([
    { name: 'a bad port', args: ['--gateway-port', '0'], problem: '--gateway-port: expected 1..65535' },
    { name: 'a bad duration', args: ['--exit-after', 'soon'], problem: '--exit-after: expected a duration' },
    { name: '--json alone', args: ['--json'], problem: '--json: only with --exit-after' },
    { name: 'two dirs', args: ['a', 'b'], problem: 'expected at most one DIR' },
    { name: 'an unknown flag', args: ['--bogus'], problem: "Unknown option '--bogus'" },
  ])('rejects $name', ({ args, problem }) => {
    const parsed = parseUpFlags(args);
    expect(parsed.kind).toBe('error');
    if (parsed.kind === 'error') expect(parsed.problems.join('\n')).toContain(problem);
  });
});
