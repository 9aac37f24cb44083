/**
 * Interop with a real proxyless client: @grpc/grpc-js-xds (SotW ADS, LDS and
 * CDS by name) resolves `xds:///echo.test:8080` through our server and calls
 * an echo backend on 127.0.0.1. The client runs in a child Node process so
 * its bootstrap is its own.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  CLUSTER_TYPE_URL,
  createSnapshot,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  type Resource,
  ROUTE_TYPE_URL,
  TYPE_SHORT_NAMES,
} from '../src/index.ts';
import { controlPlane } from './ads-harness.ts';

const run = promisify(execFile);
const NODE_ID = 'sidecar~127.0.0.1~echo-client.default~default.svc.cluster.local';
const TARGET = 'echo.test:8080';
const identity = (bytes: Buffer) => bytes;
const ECHO_SERVICE = {
  Echo: {
    path: '/weft.test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} as const;

async function echoBackend(): Promise<{ port: number; stop: () => void }> {
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, Buffer.concat([Buffer.from('echo:'), call.request])),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, stop: () => server.forceShutdown() };
}

/** What discovery would generate for a proxyless client of `echo.test:8080`. */
function proxylessResources(backendPort: number): Partial<Record<Resource['typeUrl'], Resource[]>> {
  const ads = { ads: {}, resourceApiVersion: 'V3' };
  return {
    [LISTENER_TYPE_URL]: [
      {
        typeUrl: LISTENER_TYPE_URL,
        name: TARGET,
        body: {
          name: TARGET,
          apiListener: {
            apiListener: {
              '@type':
                'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              rds: { routeConfigName: 'echo-route', configSource: ads },
              httpFilters: [
                {
                  name: 'envoy.filters.http.router',
                  typedConfig: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                  },
                },
              ],
            },
          },
        },
      },
    ],
    [ROUTE_TYPE_URL]: [
      {
        typeUrl: ROUTE_TYPE_URL,
        name: 'echo-route',
        body: {
          name: 'echo-route',
          virtualHosts: [
            {
              name: 'echo',
              domains: [TARGET],
              routes: [{ match: { prefix: '' }, route: { cluster: 'echo-cluster' } }],
            },
          ],
        },
      },
    ],
    [CLUSTER_TYPE_URL]: [
      {
        typeUrl: CLUSTER_TYPE_URL,
        name: 'echo-cluster',
        body: {
          name: 'echo-cluster',
          type: 'EDS',
          edsClusterConfig: { edsConfig: ads },
          lbPolicy: 'ROUND_ROBIN',
        },
      },
    ],
    [ENDPOINT_TYPE_URL]: [
      {
        typeUrl: ENDPOINT_TYPE_URL,
        name: 'echo-cluster',
        body: {
          clusterName: 'echo-cluster',
          endpoints: [
            {
              locality: { region: 'local', zone: 'a' },
              loadBalancingWeight: { value: 1 },
              lbEndpoints: [
                {
                  endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: backendPort } } },
                },
              ],
            },
          ],
        },
      },
    ],
  };
}

const CHILD = `
  import * as grpc from '@grpc/grpc-js';
  import * as xds from '@grpc/grpc-js-xds';
  xds.register();
  const identity = (b) => b;
  const def = { Echo: { path: '/weft.test.Echo/Echo', requestStream: false, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } };
  const Client = grpc.makeGenericClientConstructor(def, 'Echo');
  const client = new Client('xds:///${TARGET}', grpc.credentials.createInsecure());
  client.Echo(Buffer.from('hi'), { deadline: Date.now() + 10000 }, (error, reply) => {
    console.log(JSON.stringify({ error: error ? error.message : null, reply: reply ? reply.toString() : null }));
    client.close();
    process.exit(0);
  });
`;

describe('@grpc/grpc-js-xds against the ADS server', () => {
  it('resolves xds:///echo.test:8080 through LDS, RDS, CDS and EDS and reaches the backend', async () => {
    const backend = await echoBackend();
    try {
      const plane = await controlPlane();
      const snapshot = createSnapshot(proxylessResources(backend.port));
      expect(snapshot.consistencyCheck()).toEqual([]);
      plane.cache.setSnapshot(NODE_ID, snapshot);
      const bootstrap = {
        xds_servers: [
          { server_uri: plane.address, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
        ],
        node: { id: NODE_ID, locality: {} },
      };
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], {
        env: { GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) },
        timeout: 15_000,
      });
      expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({ error: null, reply: 'echo:hi' });
      const acked = new Set(plane.acks.map((a) => TYPE_SHORT_NAMES[a.typeUrl]));
      expect([...acked].sort()).toEqual(['CDS', 'EDS', 'LDS', 'RDS']);
      expect(plane.nacks).toEqual([]);
    } finally {
      backend.stop();
    }
  });
});
