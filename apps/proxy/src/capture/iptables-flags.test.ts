import { describe, expect, it } from 'vitest';
import { runIptablesCommand } from './iptables-command.ts';
import { parseIptablesFlags } from './iptables-flags.ts';
import { DEFAULT_CAPTURE_OPTIONS } from './iptables-rules.ts';

describe('parseIptablesFlags', () => {
  it('defaults to Istio sidecar settings and install mode', () => {
    expect(parseIptablesFlags([])).toEqual({ kind: 'ok', mode: 'install', options: DEFAULT_CAPTURE_OPTIONS });
  });

  it.each([
    { name: 'dry run', argv: ['--dry-run'], expected: { mode: 'dry-run' } },
    { name: 'cleanup', argv: ['--cleanup'], expected: { mode: 'cleanup' } },
    {
      name: 'ids and ports',
      argv: [
        '--proxy-uid',
        '2000',
        '--proxy-gid',
        '0',
        '--inbound-port',
        '16006',
        '--outbound-port',
        '16001',
      ],
      expected: { options: { proxyUid: 2000, proxyGid: 0, inboundPort: 16006, outboundPort: 16001 } },
    },
    {
      name: 'lists (spaces and empty items ignored; excluded inbound ports add to the defaults)',
      argv: [
        '--include-inbound-ports=9080, 8080,',
        '--exclude-inbound-ports=22',
        '--exclude-outbound-ports=3306',
        '--exclude-outbound-cidrs=10.0.0.0/8,169.254.169.254',
      ],
      expected: {
        options: {
          includeInboundPorts: [9080, 8080],
          excludeInboundPorts: [15008, 15090, 15021, 15020, 22],
          excludeOutboundPorts: [3306],
          excludeOutboundCidrs: ['10.0.0.0/8', '169.254.169.254/32'],
        },
      },
    },
    {
      name: 'empty include lists capture nothing',
      argv: ['--include-inbound-ports=', '--include-outbound-cidrs='],
      expected: { options: { includeInboundPorts: [], includeOutboundCidrs: [] } },
    },
  ])('parses $name', ({ argv, expected }) => {
    expect(parseIptablesFlags(argv)).toMatchObject({ kind: 'ok', ...expected });
  });

  it.each([
    {
      name: 'port out of range',
      argv: ['--inbound-port', '70000'],
      problem: '--inbound-port: expected ports 1-65535',
    },
    { name: 'bad port in a list', argv: ['--exclude-inbound-ports', '22,ssh'], problem: '"ssh"' },
    {
      name: 'IPv6 CIDR',
      argv: ['--exclude-outbound-cidrs', 'fd00::/8'],
      problem: '--exclude-outbound-cidrs',
    },
    { name: 'prefix too long', argv: ['--include-outbound-cidrs', '10.0.0.0/33'], problem: '"10.0.0.0/33"' },
    {
      name: 'uid not a number',
      argv: ['--proxy-uid', 'istio'],
      problem: '--proxy-uid: expected a numeric id',
    },
    { name: 'both modes', argv: ['--dry-run', '--cleanup'], problem: 'at most one' },
    { name: 'unknown flag', argv: ['--redirect-dns'], problem: "Unknown option '--redirect-dns'" },
  ])('rejects $name', ({ argv, problem }) => {
    const parsed = parseIptablesFlags(argv);
    expect(parsed.kind).toBe('error');
    if (parsed.kind === 'error') expect(parsed.problems.join('\n')).toContain(problem);
  });
});

describe('runIptablesCommand', () => {
  const harness = (saved: string, fail?: string) => {
    const calls: Array<{ command: string; args: readonly string[]; input: string | undefined }> = [];
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => err.push(t),
      run: async (command: string, args: readonly string[], input?: string) => {
        calls.push({ command, args, input });
        if (command === fail) throw new Error(`${command} exited 4: Permission denied (you must be root)`);
        return command === 'iptables-save' ? saved : '';
      },
    };
    return { io, calls, out, err };
  };

  it('install reads the current table and restores once with --noflush', async () => {
    const h = harness('*nat\n:ISTIO_OUTPUT - [0:0]\n-A OUTPUT -p tcp -j ISTIO_OUTPUT\nCOMMIT\n');
    expect(await runIptablesCommand([], h.io)).toBe(0);
    expect(h.calls.map((c) => [c.command, ...c.args].join(' '))).toEqual([
      'iptables-save -t nat',
      'iptables-restore --noflush',
    ]);
    expect(h.calls[1]?.input).toContain('-D OUTPUT -p tcp -j ISTIO_OUTPUT\n-A ISTIO_IN_REDIRECT');
  });

  it('dry run prints the restore input and runs nothing', async () => {
    const h = harness('');
    expect(await runIptablesCommand(['--dry-run'], h.io)).toBe(0);
    expect(h.calls).toEqual([]);
    expect(h.out.join('')).toMatch(/^\*nat\n[\s\S]*-A ISTIO_OUTPUT -j ISTIO_REDIRECT\nCOMMIT\n$/);
  });

  it.each([
    { name: 'a tool fails', argv: [], fail: 'iptables-restore', code: 1, message: 'Permission denied' },
    {
      name: 'a flag is wrong',
      argv: ['--inbound-port=x'],
      fail: undefined,
      code: 2,
      message: '--inbound-port',
    },
  ])('exits non-zero with the reason when $name', async ({ argv, fail, code, message }) => {
    const h = harness('', fail);
    expect(await runIptablesCommand(argv, h.io)).toBe(code);
    expect(h.err.join('')).toContain(message);
  });
});
