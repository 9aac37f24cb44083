/**
 * Benchmark backend: answers every request with 1 KiB; reports its port over IPC.
 * argv[2] is the address to listen on (default 127.0.0.1), argv[3] the port
 * (default ephemeral). A request that carries `x-forwarded-client-cert` (set
 * by an inbound proxy after an mTLS handshake) is answered with
 * `x-bench-xfcc: 1`, so the benchmark can check what was on the wire.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const payload = Buffer.alloc(1024, 'x');
const plainHeaders = { 'content-type': 'application/octet-stream', 'content-length': payload.length };
const xfccHeaders = { ...plainHeaders, 'x-bench-xfcc': '1' };
const server = http.createServer((req, res) => {
  res.writeHead(200, req.headers['x-forwarded-client-cert'] ? xfccHeaders : plainHeaders);
  res.end(payload);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[3] ?? 0), process.argv[2] ?? '127.0.0.1', () =>
  process.send?.({ port: (server.address() as AddressInfo).port }),
);
process.on('message', (message) => {
  if (message === 'exit') process.exit(0);
});
