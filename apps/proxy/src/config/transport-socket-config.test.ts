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
  it("accepts Istio's auto-mTLS matches: the mTLS one presents the agent's SDS certificate", () => {
    const cluster = compiledCluster({ transportSocketMatches: istioAutoMtlsMatches() });
    expect(cluster.socketMatches.map((m) => [m.name, m.unavailable, m.tls?.certificateSds])).toEqual([
      ['tlsMode-istio', undefined, 'default'],
      ['tlsMode-disabled', undefined, undefined],
    ]);
  });

  it.each([
    ['an endpoint labelled tlsMode istio gets mTLS', { tlsMode: 'istio' }, 'default'],
    ['an endpoint without metadata gets plaintext', undefined, undefined],
    ['an endpoint with another tlsMode gets plaintext', { tlsMode: 'disabled' }, undefined],
  ])('%s', (_name, metadata, certificateSds) => {
    const cluster = compiledCluster({ transportSocketMatches: istioAutoMtlsMatches() });
    const choice = chooseTransport(cluster.socketMatches, cluster.tls, endpoint(metadata));
    expect(choice.unavailable).toBeUndefined();
    expect(choice.tls?.certificateSds).toBe(certificateSds);
  });

  it('marks a match naming an SDS secret the agent does not serve unavailable', () => {
    const [mtls] = istioAutoMtlsMatches();
    const body = mtls as { transportSocket: { typedConfig: Record<string, unknown> } };
    const cluster = compiledCluster({
      transportSocketMatches: [
        {
          ...mtls,
          transportSocket: {
            ...body.transportSocket,
            typedConfig: {
              ...body.transportSocket.typedConfig,
              commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'file-cert' }] },
            },
          },
        },
      ],
    });
    expect(cluster.socketMatches[0]!.unavailable).toContain('unknown SDS secret file-cert');
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
      tls: { sni: 'a.example', alpn: [], certificateSds: undefined, validation: undefined },
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
