/**
 * Benchmark baseline: the least a Node HTTP proxy can do (node:http server
 * -> undici Pool.request -> pipe back), no routing or policy. Same IPC
 * protocol as proxy-child.ts, so http-bench.ts can compare the two.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const pool = new Pool(`http://127.0.0.1:${process.argv[2]}`, { connections: 64 });
const server = http.createServer((req, res) => {
  pool.request({ method: 'GET', path: req.url ?? '/', headers: { host: req.headers.host ?? '' } }).then(
    (up) => {
      res.writeHead(up.statusCode, up.headers as http.OutgoingHttpHeaders);
      up.body.pipe(res);
    },
    () => {
      res.writeHead(502);
      res.end();
    },
  );
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
  if (message === 'exit') process.exit(0);
});
