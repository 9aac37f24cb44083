import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';
import { parseServeFlags, parseTokenFlags } from './flags.ts';

describe('parseDuration', () => {
  it.each([
    { text: '90s', seconds: 90 },
    { text: '30m', seconds: 1800 },
    { text: '24h', seconds: 86_400 },
    { text: '1h30m', seconds: 5400 },
    { text: '10d', seconds: 864_000 },
    { text: '1.5h', seconds: 5400 },
  ])('reads $text', ({ text, seconds }) => {
    expect(parseDuration(text, '--x')).toEqual({ seconds });
  });

  it.each(['', '24', 'h', '1h 30m', '-1h', '0s', '1w'])('rejects "%s"', (text) => {
    expect(parseDuration(text, '--x')).toHaveProperty('problem.field', '--x');
  });

  it.each([
    { seconds: 86_400, text: '24h' },
    { seconds: 5400, text: '1h30m' },
    { seconds: 45, text: '45s' },
  ])('formats $seconds as $text', ({ seconds, text }) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('parseServeFlags', () => {
  it('fills the documented defaults', () => {
    const result = parseServeFlags(['--state-dir', '/var/lib/weft-ca'], {});
    expect(result).toEqual({
      ok: true,
      options: {
        stateDir: '/var/lib/weft-ca',
        grpcAddr: { host: '127.0.0.1', port: 15012 },
        httpAddr: { host: '127.0.0.1', port: 15015 },
        trustDomain: 'cluster.local',
        certTtlSeconds: 86_400,
        maxCertTtlSeconds: 172_800,
        caKeyType: 'ec',
        pluggedCaDir: undefined,
        servingNames: [],
        kube: false,
        kubeconfig: undefined,
        kubeNamespace: 'weft-system',
        logLevel: 'info',
      },
    });
  });

  it('reads every flag', () => {
    const result = parseServeFlags([
      '--state-dir=s',
      '--grpc-addr=[::1]:0',
      '--http-addr=0.0.0.0:8080',
      '--trust-domain=example.org',
      '--cert-ttl=1h',
      '--max-cert-ttl=2h',
      '--ca-key-type=rsa',
      '--plugged-ca-dir=/etc/cacerts',
      '--serving-names=ca.weft,ca.weft.svc',
      '--serving-names=10.0.0.1',
      '--kube',
      '--kubeconfig=/k',
      '--kube-namespace=mesh-ca',
      '--log-level=debug',
    ]);
    expect(result.ok === true && result.options).toMatchObject({
      grpcAddr: { host: '::1', port: 0 },
      httpAddr: { host: '0.0.0.0', port: 8080 },
      trustDomain: 'example.org',
      certTtlSeconds: 3600,
      maxCertTtlSeconds: 7200,
      caKeyType: 'rsa',
      pluggedCaDir: '/etc/cacerts',
      servingNames: ['ca.weft', 'ca.weft.svc', '10.0.0.1'],
      kube: true,
      kubeconfig: '/k',
      kubeNamespace: 'mesh-ca',
      logLevel: 'debug',
    });
  });

  it('collects every problem with its flag', () => {
    const result = parseServeFlags([
      '--grpc-addr=nowhere',
      '--trust-domain=Bad_Domain',
      '--cert-ttl=3h',
      '--max-cert-ttl=1h',
      '--log-level=loud',
    ]);
    expect(result.ok === false && result.problems.map((p) => p.field)).toEqual([
      '--state-dir',
      '--grpc-addr',
      '--trust-domain',
      '--cert-ttl',
      '--log-level',
    ]);
  });

  it.each(['bad name', 'a..b', '-a.example', 'a_b.example'])('rejects the serving name "%s"', (name) => {
    const result = parseServeFlags(['--state-dir=s', `--serving-names=ok.example,${name}`]);
    expect(result.ok === false && result.problems.map((p) => p.field)).toEqual(['--serving-names[1]']);
  });

  it('accepts wildcard DNS names and IPv6 serving names', () => {
    const result = parseServeFlags(['--state-dir=s', '--serving-names=*.weft.svc,fd00::1']);
    expect(result.ok === true && result.options.servingNames).toEqual(['*.weft.svc', 'fd00::1']);
  });

  it.each([
    {
      name: 'POD_NAMESPACE when the flag is absent',
      argv: [],
      env: { POD_NAMESPACE: 'istio-system' },
      want: 'istio-system',
    },
    {
      name: 'the flag over POD_NAMESPACE',
      argv: ['--kube-namespace=a'],
      env: { POD_NAMESPACE: 'b' },
      want: 'a',
    },
    { name: 'weft-system when neither is set', argv: [], env: {}, want: 'weft-system' },
  ])('takes the CA namespace from $name', ({ argv, env, want }) => {
    const result = parseServeFlags(['--state-dir=s', ...argv], env);
    expect(result.ok === true && result.options.kubeNamespace).toBe(want);
  });

  it.each(['Weft', 'a.b', '-x', 'x'.repeat(64)])('rejects the namespace "%s"', (namespace) => {
    const result = parseServeFlags(['--state-dir=s', `--kube-namespace=${namespace}`], {});
    expect(result.ok === false && result.problems.map((p) => p.field)).toEqual(['--kube-namespace']);
  });

  it('answers help', () => {
    expect(parseServeFlags(['--help'])).toEqual({ ok: 'help' });
  });
});

describe('parseTokenFlags', () => {
  it('reads the token flags with a 1h default TTL', () => {
    expect(parseTokenFlags(['--state-dir', 's', '--namespace', 'a', '--service-account', 'x'])).toEqual({
      ok: true,
      options: { stateDir: 's', namespace: 'a', serviceAccount: 'x', ttlSeconds: 3600 },
    });
  });

  it('names each missing flag', () => {
    const result = parseTokenFlags([]);
    expect(result.ok === false && result.problems.map((p) => p.field)).toEqual([
      '--state-dir',
      '--namespace',
      '--service-account',
    ]);
  });
});
