import { describe, expect, it } from 'vitest';
import { captureSettings, decideInjection } from './sidecar-injection.ts';

const template = { proxyImage: 'p:1', discoveryAddress: 'd:15010', caAddress: 'c:15012' };

describe('captureSettings', () => {
  it.each<{ name: string; annotations: Record<string, string>; ok: boolean }>([
    { name: 'defaults', annotations: {}, ok: true },
    {
      name: 'IPv4 and IPv6 CIDRs',
      annotations: { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.0.0.0/8,fd00::/8' },
      ok: true,
    },
    {
      name: 'a bare address',
      annotations: { 'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.1' },
      ok: false,
    },
    {
      name: 'a prefix too long',
      annotations: { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.0.0.0/33' },
      ok: false,
    },
    { name: 'port 0', annotations: { 'traffic.sidecar.istio.io/excludeOutboundPorts': '0' }, ok: false },
  ])('$name', ({ annotations, ok }) => {
    expect(captureSettings(annotations).ok).toBe(ok);
  });
});

describe('decideInjection', () => {
  it.each<{ name: string; namespace: string; labels: Record<string, string>; inject: boolean }>([
    {
      name: 'kube-system is never injected',
      namespace: 'kube-system',
      labels: { 'istio-injection': 'enabled' },
      inject: false,
    },
    {
      name: 'an injected namespace',
      namespace: 'shop',
      labels: { 'istio-injection': 'enabled' },
      inject: true,
    },
    { name: 'a namespace without the label', namespace: 'shop', labels: {}, inject: false },
  ])('$name', ({ namespace, labels, inject }) => {
    const decision = decideInjection(
      { spec: { containers: [{ name: 'app' }] } },
      namespace,
      labels,
      template,
    );
    expect(decision.inject).toBe(inject);
  });

  it('passes the pod labels to the proxy as node metadata LABELS, with $ escaped for Kubernetes', () => {
    const decision = decideInjection(
      { metadata: { labels: { version: 'v1', app: 'reviews', odd: 'a$(HOME)' } }, spec: { containers: [] } },
      'shop',
      { 'istio-injection': 'enabled' },
      template,
    );
    if (!decision.inject) throw new Error(decision.reason);
    const proxy = decision.patch.find((op) => op.path === '/spec/containers/-')?.value as { args: string[] };
    const labels = proxy.args.flatMap((arg, i) => (proxy.args[i - 1] === '--label' ? [arg] : []));
    expect(labels).toEqual(['app=reviews', 'odd=a$$(HOME)', 'security.istio.io/tlsMode=istio', 'version=v1']);
  });

  it('creates metadata for a pod without any', () => {
    const decision = decideInjection(
      { spec: { containers: [] } },
      'shop',
      { 'istio-injection': 'enabled' },
      template,
    );
    expect(decision.inject && decision.patch[0]).toEqual({ op: 'add', path: '/metadata', value: {} });
  });

  it.each([
    { name: 'a CA address', caAddress: 'c:15012', expected: true },
    { name: 'no CA address', caAddress: '', expected: false },
  ])('passes --ca-addr to the sidecar with $name', ({ caAddress, expected }) => {
    const decision = decideInjection(
      { spec: { containers: [] } },
      'shop',
      { 'istio-injection': 'enabled' },
      {
        ...template,
        caAddress,
      },
    );
    const proxy = decision.inject ? decision.patch.find((op) => op.path === '/spec/containers/-') : undefined;
    expect(((proxy?.value ?? { args: [] }) as { args: string[] }).args.includes('--ca-addr')).toBe(expected);
  });

  it('refuses something that is not a pod', () => {
    expect(decideInjection({ spec: {} }, 'shop', {}, template)).toEqual({
      inject: false,
      reason: 'not a pod with spec.containers',
    });
  });
});
