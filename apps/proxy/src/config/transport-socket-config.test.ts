import { describe, expect, it } from 'vitest';
import { clusterLoadAssignment, edsCluster, istioAutoMtlsMatches } from '../testing/builders.ts';
import { compileCluster } from './cluster-config.ts';
import { compileClusterLoadAssignment } from './endpoint-config.ts';
import { chooseTransport } from './transport-socket-config.ts';

function compiledCluster(overrides: Record<string, unknown>) {
  const result = compileCluster(edsCluster('outbound|80||a', overrides));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
}

function endpoint(socketMatch?: Record<string, string>) {
  const result = compileClusterLoadAssignment(
    clusterLoadAssignment('outbound|80||a', [{ port: 8080, ...(socketMatch ? { socketMatch } : {}) }]),
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value.priorities[0]![0]!.endpoints[0]!;
}

describe('transportSocketMatches', () => {
  it("accepts Istio's auto-mTLS matches, marking the mTLS one unavailable (no SDS yet)", () => {
    const cluster = compiledCluster({ transportSocketMatches: istioAutoMtlsMatches() });
    expect(cluster.socketMatches.map((m) => [m.name, m.unavailable !== undefined])).toEqual([
      ['tlsMode-istio', true],
      ['tlsMode-disabled', false],
    ]);
    expect(cluster.socketMatches[0]!.unavailable).toContain(
      'client certificates (mTLS) are not supported yet',
    );
  });

  it.each([
    ['an endpoint labelled tlsMode istio gets the unavailable mTLS transport', { tlsMode: 'istio' }, true],
    ['an endpoint without metadata gets plaintext', undefined, false],
    ['an endpoint with another tlsMode gets plaintext', { tlsMode: 'disabled' }, false],
  ])('%s', (_name, metadata, unavailable) => {
    const cluster = compiledCluster({ transportSocketMatches: istioAutoMtlsMatches() });
    const choice = chooseTransport(cluster.socketMatches, cluster.tls, endpoint(metadata));
    expect(choice.unavailable !== undefined).toBe(unavailable);
    expect(choice.tls).toBeUndefined();
  });

  it("falls back to the cluster's transportSocket when no match applies", () => {
    const cluster = compiledCluster({
      transportSocket: {
        name: 'tls',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          sni: 'a.example',
        },
      },
      transportSocketMatches: [istioAutoMtlsMatches()[0]],
    });
    expect(chooseTransport(cluster.socketMatches, cluster.tls, endpoint())).toEqual({
      tls: { sni: 'a.example', alpn: [] },
      unavailable: undefined,
    });
  });

  it.each([
    [
      'a match without a transport socket',
      [{ name: 'm', match: {} }],
      'transportSocketMatches[0].transportSocket: is required',
    ],
    [
      'a non-string match value',
      [{ name: 'm', match: { tlsMode: 1 }, transportSocket: istioAutoMtlsMatches()[1]!.transportSocket }],
      'transportSocketMatches[0].match.tlsMode: only string values',
    ],
  ])('rejects %s', (_name, matches, expected) => {
    const result = compileCluster(edsCluster('c', { transportSocketMatches: matches }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toContain(expected);
  });
});
