/**
 * The injected init container's command against the real `weft-proxy
 * iptables` (run from its source in a child process, `--dry-run`: prints the
 * rules, needs no root): the arguments injection writes must parse, and the
 * rules must carry the pod's capture annotations.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decideInjection } from '../../src/webhook/sidecar-injection.ts';

const PROXY_MAIN = fileURLToPath(new URL('../../../proxy/src/main.ts', import.meta.url));

function injectedContainers(annotations: Record<string, string>) {
  const decision = decideInjection(
    { metadata: { annotations }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
    'shop',
    { 'istio-injection': 'enabled' },
    { proxyImage: 'weft-proxy:dev', discoveryAddress: 'd:15010', caAddress: 'c:15012' },
  );
  if (!decision.inject) throw new Error(`not injected: ${decision.reason}`);
  const init = decision.patch.find((op) => op.path === '/spec/initContainers')?.value as { args: string[] }[];
  const sidecar = decision.patch.find(
    (op) => op.path.startsWith('/spec/containers') && (op.value as { name?: string }).name === 'weft-proxy',
  )?.value as { args: string[] } | undefined;
  return { initArgs: init[0]?.args ?? [], proxyArgs: sidecar?.args ?? [] };
}

function initArgs(annotations: Record<string, string>): string[] {
  return injectedContainers(annotations).initArgs;
}

async function dryRun(args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--conditions=@weft/source',
    PROXY_MAIN,
    ...args,
    '--dry-run',
  ]);
  return stdout;
}

describe('the injected capture command', () => {
  it.each<{ name: string; annotations: Record<string, string>; expected: string[] }>([
    {
      name: 'no annotations',
      annotations: {},
      expected: ['--dport 15021 -j RETURN', '-j REDIRECT --to-ports 15001'],
    },
    {
      name: 'excluded ports and ranges',
      annotations: {
        'traffic.sidecar.istio.io/excludeInboundPorts': '9000',
        'traffic.sidecar.istio.io/excludeOutboundPorts': '5432',
        'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.96.0.1/32,fd00::/8',
      },
      expected: ['--dport 9000 -j RETURN', '--dport 5432 -j RETURN', '-d 10.96.0.1/32 -j RETURN'],
    },
    {
      name: 'only some outbound ranges captured',
      annotations: { 'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8' },
      expected: ['-d 10.0.0.0/8 -j ISTIO_REDIRECT'],
    },
  ])(
    'is accepted by weft-proxy iptables with $name',
    async ({ annotations, expected }) => {
      const args = initArgs(annotations);
      expect(args[0]).toBe('iptables');
      const rules = await dryRun(args);
      for (const line of expected) expect(rules).toContain(line);
    },
    20_000,
  );
});

describe('the injected sidecar command', () => {
  it('uses only flags weft-proxy documents in --help', async () => {
    const { proxyArgs } = injectedContainers({});
    const { stdout: help } = await promisify(execFile)(process.execPath, [
      '--conditions=@weft/source',
      PROXY_MAIN,
      '--help',
    ]);
    const flags = proxyArgs.filter((arg) => arg.startsWith('--'));
    expect(flags).toEqual(
      expect.arrayContaining(['--ca-addr', '--token-file', '--ca-root-file', '--health-addr']),
    );
    for (const flag of flags) expect(help, `weft-proxy --help lacks ${flag}`).toContain(`${flag} `);
  }, 20_000);
});
