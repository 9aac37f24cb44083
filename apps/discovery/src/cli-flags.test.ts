import { describe, expect, it } from 'vitest';
import { FLAGS, helpText, parseFlags } from './cli-flags.ts';

describe('parseFlags', () => {
  it('fills in the defaults', () => {
    expect(parseFlags(['--config-dir', 'conf'])).toEqual({
      kind: 'run',
      flags: {
        configDir: 'conf',
        xdsAddr: { host: '0.0.0.0', port: 15010 },
        httpAddr: { host: '0.0.0.0', port: 15014 },
        trustDomain: 'cluster.local',
        debounceMs: 100,
        kube: false,
        logLevel: 'info',
      },
    });
  });

  it('reads every flag', () => {
    const result = parseFlags([
      '--config-dir=conf',
      '--xds-addr',
      '127.0.0.1:0',
      '--http-addr',
      '[::1]:9000',
      '--trust-domain',
      'example.org',
      '--debounce',
      '0',
      '--log-level',
      'debug',
    ]);
    expect(result).toMatchObject({
      kind: 'run',
      flags: {
        xdsAddr: { host: '127.0.0.1', port: 0 },
        httpAddr: { host: '::1', port: 9000 },
        trustDomain: 'example.org',
        debounceMs: 0,
        logLevel: 'debug',
      },
    });
  });

  it.each([
    ['no config source', [], '--config-dir DIR is required'],
    ['an unknown flag', ['--config-dir', 'c', '--bogus'], "Unknown option '--bogus'"],
    ['a flag without its value', ['--config-dir'], "Option '--config-dir <value>' argument missing"],
    ['a positional argument', ['--config-dir', 'c', 'extra'], "Unexpected argument 'extra'"],
    [
      'a bad address',
      ['--config-dir', 'c', '--http-addr', 'nohost'],
      '--http-addr: "nohost" is not HOST:PORT',
    ],
    ['a port out of range', ['--config-dir', 'c', '--xds-addr', ':70000'], 'out of range'],
    ['a bad debounce', ['--config-dir', 'c', '--debounce', '1.5'], '--debounce: "1.5" is not a whole number'],
    ['a bad log level', ['--config-dir', 'c', '--log-level', 'loud'], '--log-level: "loud" is not debug'],
    ['an uppercase trust domain', ['--config-dir', 'c', '--trust-domain', 'Cluster.Local'], '--trust-domain'],
    ['both sources', ['--config-dir', 'c', '--kube'], '--kube and --config-dir are exclusive'],
    [
      'a cluster flag without --kube',
      ['--config-dir', 'c', '--kubeconfig', 'k'],
      '--kubeconfig needs --kube',
    ],
    [
      'a sidecar address nobody can dial',
      ['--kube', '--ca-addr', ':15012'],
      '--ca-addr: ":15012" is not a HOST:PORT',
    ],
    ['an uppercase webhook DNS name', ['--kube', '--webhook-dns', 'Weft.svc'], '--webhook-dns: "Weft.svc"'],
  ])('refuses %s', (_name, argv, message) => {
    const result = parseFlags(argv);
    expect(result.kind).toBe('error');
    expect(result.kind === 'error' && result.message).toContain(message);
  });

  it('fills in the cluster defaults with --kube', () => {
    const result = parseFlags(['--kube', '--kubeconfig', '/k', '--webhook-dns', 'a.svc, b.svc']);
    expect(result).toMatchObject({
      kind: 'run',
      flags: {
        kube: true,
        cluster: {
          kubeconfig: '/k',
          webhookAddr: { host: '0.0.0.0', port: 15017 },
          webhookDnsNames: ['a.svc', 'b.svc'],
          proxyImage: 'weft-proxy:dev',
          injectedDiscoveryAddr: 'weft-discovery.weft-system.svc:15010',
          caAddr: 'weft-ca.weft-system.svc:15012',
        },
      },
    });
  });

  it('lets --ca-addr be empty: injected sidecars then get no --ca-addr', () => {
    const result = parseFlags(['--kube', '--ca-addr', '']);
    expect(result).toMatchObject({ kind: 'run', flags: { cluster: { caAddr: '' } } });
  });

  it('reports every problem at once', () => {
    const result = parseFlags(['--xds-addr', 'x', '--log-level', 'y']);
    expect(result.kind === 'error' && result.message.split('\n')).toHaveLength(3);
  });

  it('asks for help before validating anything else', () => {
    expect(parseFlags(['--help', '--log-level', 'nonsense'])).toEqual({ kind: 'help' });
  });
});

describe('helpText', () => {
  it.each(Object.entries(FLAGS))('documents --%s', (name, spec) => {
    const line = helpText()
      .split('\n')
      .find((l) => l.trimStart().startsWith(`--${name}`));
    expect(line).toContain(spec.help);
    if (spec.default !== undefined) expect(line).toContain(`(default ${spec.default})`);
  });
});
