import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ADS_METHOD_PATHS, createNodeCheckInterceptor, type NodeCheck } from './node-check-interceptor.ts';

const SOTW_PATH = [...ADS_METHOD_PATHS][0]!;
const OTHER_PATH = '/weft.test.Other/Stream';

/** Requests travel as JSON text here; the interceptor only sees decoded messages. */
const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
};

function method(path: string) {
  return {
    path,
    requestStream: true,
    responseStream: true,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A server whose streams echo every request back, behind the interceptor. */
async function serve(check: NodeCheck, refused: string[]): Promise<grpc.Client> {
  const server = new grpc.Server({
    interceptors: [createNodeCheckInterceptor({ check, onRefused: (info) => refused.push(info.reason) })],
  });
  const echo = (call: grpc.ServerDuplexStream<unknown, unknown>) => {
    call.on('data', (message) => call.write(message));
    call.on('end', () => call.end());
  };
  server.addService({ Ads: method(SOTW_PATH), Other: method(OTHER_PATH) } as grpc.ServiceDefinition, {
    Ads: echo,
    Other: echo,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  cleanups.push(() => {
    client.close();
    server.forceShutdown();
  });
  return client;
}

/** Sends `requests` on one stream and collects the replies and the final status. */
function exchange(client: grpc.Client, path: string, requests: unknown[]) {
  const call = client.makeBidiStreamRequest(path, json.serialize, json.deserialize);
  const replies: unknown[] = [];
  return new Promise<{ replies: unknown[]; status: grpc.StatusObject }>((resolve) => {
    call.on('data', (reply) => replies.push(reply));
    call.on('error', () => {});
    call.on('status', (status) => resolve({ replies, status }));
    for (const r of requests) call.write(r);
    call.end();
  });
}

const onlySidecars: NodeCheck = (node) =>
  node.id.startsWith('sidecar~') ? { ok: true } : { ok: false, reason: `bad id ${node.id}` };

describe('createNodeCheckInterceptor', () => {
  it('passes every message of a stream whose node is accepted', async () => {
    const client = await serve(onlySidecars, []);
    const requests = [{ node: { id: 'sidecar~a' }, n: 1 }, { n: 2 }];
    const { replies, status } = await exchange(client, SOTW_PATH, requests);
    expect(status.code).toBe(grpc.status.OK);
    expect(replies).toEqual(requests);
  });

  it.each<[string, NodeCheck, string]>([
    ['the check refuses it', onlySidecars, 'node "router-x" refused: bad id router-x'],
    [
      'the check throws',
      () => {
        throw new Error('boom');
      },
      'node "router-x" refused: node check failed: boom',
    ],
  ])('ends the stream with INVALID_ARGUMENT when %s', async (_name, check, details) => {
    const refused: string[] = [];
    const client = await serve(check, refused);
    const { replies, status } = await exchange(client, SOTW_PATH, [{ node: { id: 'router-x' } }, { n: 2 }]);
    expect(status).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details });
    expect(replies).toEqual([]);
    expect(refused).toHaveLength(1);
  });

  it.each([
    ['a first request without a node (the ADS server refuses that itself)', SOTW_PATH, [{ n: 1 }]],
    ['another method', OTHER_PATH, [{ node: { id: 'router-x' } }]],
  ])('leaves alone %s', async (_name, path, requests) => {
    const client = await serve(onlySidecars, []);
    const { replies, status } = await exchange(client, path, requests);
    expect(status.code).toBe(grpc.status.OK);
    expect(replies).toEqual(requests);
  });
});
