import { describe, expect, it } from 'vitest';
import { parseFlags } from './cli-flags.ts';

describe('parseFlags', () => {
  it('builds the node id from namespace and workload', () => {
    const parsed = parseFlags([
      '--discovery',
      '127.0.0.1:15010',
      '--workload',
      'reviews-v1',
      '--namespace',
      'shop',
      '--listener',
      'virtualOutbound=127.0.0.1:16001',
      '--metadata',
      'LOCAL_APP_ADDRESS=127.0.1.2',
      '--label',
      'app=reviews',
      '--label',
      'version=v1',
    ]);
    expect(parsed.kind).toBe('ok');
    if (parsed.kind !== 'ok') return;
    expect(parsed.flags.nodeId).toBe('sidecar~127.0.0.1~reviews-v1.shop~shop.svc.cluster.local');
    expect(parsed.flags.metadata).toMatchObject({
      NAMESPACE: 'shop',
      WORKLOAD_NAME: 'reviews-v1',
      INTERCEPTION_MODE: 'NONE',
      LOCAL_APP_ADDRESS: '127.0.1.2',
      LABELS: { app: 'reviews', version: 'v1' },
    });
    expect(parsed.flags.listeners.get('virtualOutbound')).toEqual({ host: '127.0.0.1', port: 16001 });
    expect(parsed.flags.admin).toEqual({ host: '127.0.0.1', port: 15000 });
  });

  it.each([
    { name: 'off', extra: [], sink: undefined },
    { name: 'alone: stdout', extra: ['--access-log', '--log-level', 'warn'], sink: 'stdout' },
    { name: 'last, alone: stdout', extra: ['--access-log'], sink: 'stdout' },
    { name: 'a file', extra: ['--access-log', '/tmp/access.log'], sink: '/tmp/access.log' },
    { name: 'with =', extra: ['--access-log=stdout'], sink: 'stdout' },
  ])('reads --access-log $name', ({ extra, sink }) => {
    const parsed = parseFlags(['--discovery', 'h:1', '--workload', 'w', ...extra]);
    expect(parsed.kind === 'ok' && parsed.flags.accessLog).toBe(sink ?? undefined);
  });

  it.each([
    { name: 'missing discovery', argv: ['--node-id', 'a~b~c~d'], problem: '--discovery: is required' },
    {
      name: 'bad discovery',
      argv: ['--discovery', 'nope', '--node-id', 'a~b~c~d'],
      problem: '--discovery: expected HOST:PORT',
    },
    { name: 'no identity', argv: ['--discovery', 'h:1'], problem: '--node-id or --workload' },
    {
      name: 'bad node id',
      argv: ['--discovery', 'h:1', '--node-id', 'x'],
      problem: '--node-id: expected TYPE~IP~ID~DNSDOMAIN',
    },
    {
      name: 'bad mode',
      argv: ['--discovery', 'h:1', '--workload', 'w', '--mode', 'x'],
      problem: '--mode: expected sidecar or router',
    },
    {
      name: 'concurrency',
      argv: ['--discovery', 'h:1', '--workload', 'w', '--concurrency', '0'],
      problem: '--concurrency: expected an integer from 1 to 64',
    },
    {
      name: 'bad listener',
      argv: ['--discovery', 'h:1', '--workload', 'w', '--listener', 'x'],
      problem: '--listener: expected NAME=HOST:PORT',
    },
    {
      name: 'bad metadata',
      argv: ['--discovery', 'h:1', '--workload', 'w', '--metadata', 'novalue'],
      problem: '--metadata: expected KEY=VALUE',
    },
    {
      name: 'bad label',
      argv: ['--discovery', 'h:1', '--workload', 'w', '--label', '=x'],
      problem: '--label: expected KEY=VALUE',
    },
    {
      name: 'a sample rate above 1',
      argv: ['--discovery', 'h:1', '--workload', 'w', '--trace-sample-rate', '1.5'],
      problem: '--trace-sample-rate: expected a number from 0 to 1',
    },
    {
      name: 'an OTLP endpoint that is not a URL',
      argv: ['--discovery', 'h:1', '--workload', 'w', '--trace-otlp-endpoint', 'collector:4318'],
      problem: '--trace-otlp-endpoint: expected an http(s) URL',
    },
    {
      name: 'a stats address without a port',
      argv: ['--discovery', 'h:1', '--workload', 'w', '--stats-addr', '0.0.0.0'],
      problem: '--stats-addr: expected HOST:PORT, got "0.0.0.0"',
    },
    {
      name: 'a health address with a port out of range',
      argv: ['--discovery', 'h:1', '--workload', 'w', '--health-addr', '0.0.0.0:70000'],
      problem: '--health-addr: expected HOST:PORT',
    },
    { name: 'unknown flag', argv: ['--bogus'], problem: "Unknown option '--bogus'" },
  ])('rejects $name', ({ argv, problem }) => {
    const parsed = parseFlags(argv);
    expect(parsed.kind).toBe('error');
    if (parsed.kind === 'error') expect(parsed.problems.join('\n')).toContain(problem);
  });

  it('recognises --help', () => {
    expect(parseFlags(['--help']).kind).toBe('help');
  });

  it('takes the status servers (Istio 15090 and 15021) from --stats-addr and --health-addr', () => {
    const base = ['--discovery', 'h:1', '--workload', 'w'];
    const none = parseFlags(base);
    const both = parseFlags([...base, '--stats-addr', '0.0.0.0:15090', '--health-addr', '0.0.0.0:15021']);
    expect(none.kind === 'ok' && none.flags.status).toEqual([]);
    expect(both.kind === 'ok' && both.flags.status).toEqual([
      { host: '0.0.0.0', port: 15090 },
      { host: '0.0.0.0', port: 15021 },
    ]);
  });
});
