import { describe, expect, it } from 'vitest';
import { parseFlags } from '../cli-flags.ts';
import { parseTtlSeconds } from './agent-flags.ts';

const BASE = ['--discovery', '127.0.0.1:15010', '--workload', 'reviews-v1', '--namespace', 'shop'];
const AGENT = ['--ca-addr', '127.0.0.1:15012', '--token-file', '/t', '--ca-root-file', '/r'];

describe('identity agent flags', () => {
  it('gives no agent without --ca-addr', () => {
    const parsed = parseFlags(BASE);
    expect(parsed.kind === 'ok' && parsed.flags.agent).toBeUndefined();
  });

  it('parses the agent settings with their defaults', () => {
    const parsed = parseFlags([...BASE, ...AGENT, '--service-account', 'reviews', '--cert-ttl', '4s']);
    expect(parsed.kind === 'ok' && parsed.flags.agent).toEqual({
      caAddress: '127.0.0.1:15012',
      tokenFile: '/t',
      caRootFile: '/r',
      trustDomain: 'cluster.local',
      serviceAccount: 'reviews',
      certTtlSeconds: 4,
    });
  });

  it.each([
    [
      'a missing token file',
      ['--ca-addr', '127.0.0.1:1', '--ca-root-file', '/r'],
      '--token-file: is required with --ca-addr',
    ],
    [
      'a missing root file',
      ['--ca-addr', '127.0.0.1:1', '--token-file', '/t'],
      '--ca-root-file: is required with --ca-addr',
    ],
    ['a bad CA address', [...AGENT.slice(2), '--ca-addr', 'ca'], '--ca-addr: expected HOST:PORT'],
    ['a bad TTL', [...AGENT, '--cert-ttl', '1w'], '--cert-ttl: expected a duration'],
    [
      'an upper-case trust domain',
      [...AGENT, '--trust-domain', 'Mesh.Local'],
      '--trust-domain: expected lowercase',
    ],
    ['a token file without a CA', ['--token-file', '/t'], '--token-file: only meaningful with --ca-addr'],
  ])('rejects %s', (_name, args, expected) => {
    const parsed = parseFlags([...BASE, ...args]);
    expect(parsed.kind).toBe('error');
    expect(parsed.kind === 'error' && parsed.problems.join('\n')).toContain(expected);
  });

  it.each([
    ['4s', 4],
    ['30m', 1800],
    ['24h', 86400],
    ['2d', 172800],
    ['90', 90],
    ['0s', undefined],
    ['1.5h', undefined],
  ])('reads the duration %s', (text, seconds) => {
    expect(parseTtlSeconds(text)).toBe(seconds);
  });
});
