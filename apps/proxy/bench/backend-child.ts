/**
 * Benchmark backend: answers every request with 1 KiB; reports its port over IPC.
 * argv[2] is the address to listen on (default 127.0.0.1), argv[3] the port
 * (default ephemeral), argv[4] the protocol (`http1` default: node:http;
 * `h2`: node:http2 cleartext server; `grpc`: @grpc/grpc-js server with the
 * bench's unary Echo method). A request that carries
 * `x-forwarded-client-cert` (set by an inbound proxy after an mTLS
 * handshake) is answered with `x-bench-xfcc: 1`, so the benchmark can check
 * what was on the wire.
 *
 * IPC: sends `{ port }` once listening; answers `'count'` with `{ served }`
 * (requests answered so far, so the bench can check a proxy forwarded what
 * the load generator saw answered); exits on `'exit'`.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { BENCH_GRPC_SERVICE, type Protocol, RESPONSE_PAYLOAD } from './bench-protocols.ts';

const address = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? 0);
const protocol = (process.argv[4] ?? 'http1') as Protocol;
let served = 0;

const plainHeaders = {
  'content-type': 'application/octet-stream',
  'content-length': RESPONSE_PAYLOAD.length,
};
const xfccHeaders = { ...plainHeaders, 'x-bench-xfcc': '1' };

function serveHttp1(): void {
  const server = http.createServer((req, res) => {
    served++;
    res.writeHead(200, req.headers['x-forwarded-client-cert'] ? xfccHeaders : plainHeaders);
    res.end(RESPONSE_PAYLOAD);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, address, () => process.send?.({ port: (server.address() as AddressInfo).port }));
}

function serveHttp2(): void {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    served++;
    stream.respond({
      ':status': 200,
      ...(headers['x-forwarded-client-cert'] ? xfccHeaders : plainHeaders),
    });
    stream.end(RESPONSE_PAYLOAD);
  });
  server.listen(port, address, () => process.send?.({ port: (server.address() as AddressInfo).port }));
}

function serveGrpc(): void {
  const server = new grpc.Server();
  server.addService(BENCH_GRPC_SERVICE, {
    Echo: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      served++;
      callback(null, RESPONSE_PAYLOAD);
    },
  });
  server.bindAsync(`${address}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
    if (error) {
      console.error(`grpc backend: ${error.message}`);
      process.exit(1);
    }
    process.send?.({ port: bound });
  });
}

if (protocol === 'h2') serveHttp2();
else if (protocol === 'grpc') serveGrpc();
else serveHttp1();

process.on('message', (message) => {
  if (message === 'count') process.send?.({ served });
  if (message === 'exit') process.exit(0);
});
