/** Benchmark backend: answers every request with 1 KiB; reports its port over IPC. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const payload = Buffer.alloc(1024, 'x');
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length });
  res.end(payload);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('message', (message) => {
  if (message === 'exit') process.exit(0);
});
