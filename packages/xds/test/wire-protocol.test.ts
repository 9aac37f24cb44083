/**
 * The server against plain clients: @grpc/grpc-js with @grpc/proto-loader on
 * the same Envoy protos (what any other xDS client sees), and raw bytes.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_TYPE_URL, decodeResource, waitUntil } from '../src/index.ts';
import { envoyProtoIncludeDirs } from '../src/protos/envoy-protos.ts';
import { controlPlane, mesh } from './ads-harness.ts';

interface RawAny {
  type_url: string;
  value: Buffer;
}
interface RawResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: RawAny[];
}
type RawStream = grpc.ClientDuplexStream<Record<string, unknown>, RawResponse>;
type AdsConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => grpc.Client & {
  StreamAggregatedResources(): RawStream;
};

function protoLoaderAds(): AdsConstructor {
  const definition = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
    includeDirs: envoyProtoIncludeDirs(),
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: AdsConstructor } } } };
  };
  return loaded.envoy.service.discovery.v3.AggregatedDiscoveryService;
}

/** Collects responses and the final status of a stream. */
function observe(stream: RawStream) {
  const responses: RawResponse[] = [];
  let status: grpc.StatusObject | undefined;
  stream.on('data', (response: RawResponse) => responses.push(response));
  stream.on('error', () => {});
  stream.on('status', (s: grpc.StatusObject) => {
    status = s;
  });
  return { responses, status: () => status };
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A proto-loader ADS client's SotW stream to `address`, closed after the test. */
function openStream(address: string) {
  const client = new (protoLoaderAds())(address, grpc.credentials.createInsecure());
  const stream = client.StreamAggregatedResources();
  closers.push(() => {
    stream.cancel();
    client.close();
  });
  return { stream, seen: observe(stream) };
}

describe('ADS server with a plain grpc-js + proto-loader client', () => {
  it('serves SotW CDS whose Any values decode to the snapshot resources, and records the ACK', async () => {
    const plane = await controlPlane();
    plane.cache.setSnapshot('raw', mesh());
    const { stream, seen } = openStream(plane.address);
    stream.write({ node: { id: 'raw', locality: {} }, type_url: CLUSTER_TYPE_URL, resource_names: [] });
    await waitUntil(() => seen.responses.length === 1);
    const [response] = seen.responses;
    expect(response?.type_url).toBe(CLUSTER_TYPE_URL);
    const bodies = (response?.resources ?? []).map((any) => decodeResource(CLUSTER_TYPE_URL, any.value));
    expect(bodies.map((b) => b.name)).toEqual(['a', 'b']);
    stream.write({
      type_url: CLUSTER_TYPE_URL,
      version_info: response?.version_info,
      response_nonce: response?.nonce,
    });
    await waitUntil(() => plane.acks.length === 1);
    expect(plane.acks[0]).toMatchObject({ nodeId: 'raw', version: response?.version_info });
  });

  it('ignores a NACK with a stale nonce and records one with the latest', async () => {
    const plane = await controlPlane();
    plane.cache.setSnapshot('raw', mesh());
    const { stream, seen } = openStream(plane.address);
    stream.write({ node: { id: 'raw' }, type_url: CLUSTER_TYPE_URL });
    await waitUntil(() => seen.responses.length === 1);
    plane.cache.setSnapshot('raw', mesh('10.0.0.1', ['a', 'b', 'c']));
    await waitUntil(() => seen.responses.length === 2);
    const [first, second] = seen.responses;
    const nack = (nonce: string | undefined) => ({
      type_url: CLUSTER_TYPE_URL,
      version_info: first?.version_info,
      response_nonce: nonce,
      error_detail: { code: 3, message: 'no' },
    });
    stream.write(nack(first?.nonce));
    stream.write(nack(second?.nonce));
    await waitUntil(() => plane.nacks.length === 1);
    expect(plane.nacks[0]).toMatchObject({ nonce: second?.nonce, version: second?.version_info });
  });

  it("answers a type's first request even when it carries a nonce left over from an earlier stream", async () => {
    const plane = await controlPlane();
    plane.cache.setSnapshot('raw', mesh());
    const { stream, seen } = openStream(plane.address);
    stream.write({
      node: { id: 'raw' },
      type_url: CLUSTER_TYPE_URL,
      version_info: 'old',
      response_nonce: '42',
    });
    await waitUntil(() => seen.responses.length === 1);
    expect(seen.responses[0]?.resources).toHaveLength(2);
  });

  it('ends a stream whose first request has no node.id with INVALID_ARGUMENT', async () => {
    const plane = await controlPlane();
    const { stream, seen } = openStream(plane.address);
    stream.write({ type_url: CLUSTER_TYPE_URL });
    await waitUntil(() => seen.status() !== undefined);
    expect(seen.status()?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(plane.opened).toEqual([]);
  });

  it('ends the stream of a node that checkNode refuses, with the reason', async () => {
    const plane = await controlPlane(undefined, undefined, {
      checkNode: (node) => (node.id.includes('~') ? undefined : 'node id is not TYPE~IP~ID~DOMAIN'),
    });
    const { stream, seen } = openStream(plane.address);
    stream.write({ node: { id: 'plain' }, type_url: CLUSTER_TYPE_URL });
    await waitUntil(() => seen.status() !== undefined);
    expect(seen.status()).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'node refused: node id is not TYPE~IP~ID~DOMAIN',
    });
    expect(plane.opened).toEqual([]);
    expect(plane.closed).toEqual([]);
  });

  it('ignores an unknown type URL and keeps the stream working', async () => {
    const plane = await controlPlane();
    plane.cache.setSnapshot('raw', mesh());
    const { stream, seen } = openStream(plane.address);
    stream.write({ node: { id: 'raw' }, type_url: 'type.googleapis.com/no.such.Type' });
    stream.write({ type_url: CLUSTER_TYPE_URL });
    await waitUntil(() => seen.responses.length === 1);
    expect(seen.responses[0]?.type_url).toBe(CLUSTER_TYPE_URL);
    expect(seen.status()).toBeUndefined();
  });

  it('fails a stream that sends undecodable bytes and keeps serving others', async () => {
    const plane = await controlPlane();
    plane.cache.setSnapshot('raw', mesh());
    const raw = grpc.makeGenericClientConstructor(
      {
        StreamAggregatedResources: {
          path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
          requestStream: true,
          responseStream: true,
          requestSerialize: (bytes: Buffer) => bytes,
          requestDeserialize: (bytes: Buffer) => bytes,
          responseSerialize: (bytes: Buffer) => bytes,
          responseDeserialize: (bytes: Buffer) => bytes,
        },
      },
      'Raw',
    );
    const rawClient = new raw(plane.address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      StreamAggregatedResources(): grpc.ClientDuplexStream<Buffer, Buffer>;
    };
    const bad = rawClient.StreamAggregatedResources();
    let status: grpc.StatusObject | undefined;
    bad.on('error', () => {});
    bad.on('status', (s: grpc.StatusObject) => {
      status = s;
    });
    bad.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    await waitUntil(() => status !== undefined);
    expect(status?.code).not.toBe(grpc.status.OK);
    rawClient.close();

    const { stream, seen } = openStream(plane.address);
    stream.write({ node: { id: 'raw' }, type_url: CLUSTER_TYPE_URL });
    await waitUntil(() => seen.responses.length === 1);
  });
});
