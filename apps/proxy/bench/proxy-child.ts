/**
 * Benchmark child: one weft-proxy with a static config (HTTP listener on
 * 127.0.0.1:0 -> STATIC cluster at the backend port given as argv[2]).
 * Reports its listener port over IPC, and its CPU usage when asked.
 */
import { createLogger } from '@weft/telemetry';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL, resourceFromBody } from '@weft/xds';
import { startProxy } from '../src/proxy.ts';
import {
  filterChain,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  staticCluster,
  virtualHost,
} from '../src/testing/builders.ts';

const backendPort = Number(process.argv[2]);
const proxy = await startProxy({
  node: { id: 'sidecar~127.0.0.1~bench.default~default.svc.cluster.local' },
  admin: null,
  logger: createLogger({ name: 'weft-proxy', level: 'error' }),
  staticResources: [
    resourceFromBody(CLUSTER_TYPE_URL, staticCluster('backend', [{ port: backendPort }])),
    resourceFromBody(LISTENER_TYPE_URL, listener('http', 0, [filterChain(httpConnectionManager('80'))])),
    resourceFromBody(
      ROUTE_TYPE_URL,
      routeConfiguration('80', [
        virtualHost('other', ['other.local'], [routeTo('backend')]),
        virtualHost(
          'backend',
          ['*'],
          [
            routeTo('backend', { prefix: '/api/', headers: [{ name: 'x-canary', presentMatch: true }] }),
            routeTo('backend'),
          ],
        ),
      ]),
    ),
  ],
});
const wait = async (): Promise<number> => {
  for (;;) {
    const address = proxy.listenerAddress('http');
    if (address) return address.port;
    await new Promise((r) => setTimeout(r, 5));
  }
};
process.send?.({ port: await wait() });
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
  if (message === 'exit') void proxy.close().then(() => process.exit(0));
});
