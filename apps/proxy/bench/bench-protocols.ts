/**
 * What every protocol of proxy-bench.ts shares between the load generator,
 * the backends and the targets: the protocol names, the request each one
 * sends (GET `/api/items?id=1` for HTTP, a unary call for gRPC), the 1 KiB
 * answer, and the gRPC method (raw bytes both ways: gRPC framing over
 * HTTP/2 with an opaque message, no protobuf codec in the measurement).
 */
import type { ServiceDefinition } from '@grpc/grpc-js';

/** `http1`: HTTP/1.1 keep-alive; `h2`: HTTP/2 cleartext, prior knowledge; `grpc`: gRPC unary over h2c. */
export type Protocol = 'http1' | 'h2' | 'grpc';

export const PROTOCOLS: readonly Protocol[] = ['http1', 'h2', 'grpc'];

/** How reports name a protocol. */
export const PROTOCOL_TITLES: Record<Protocol, string> = {
  http1: 'HTTP/1.1 keep-alive GET, 1 KiB response',
  h2: 'HTTP/2 (h2c, prior knowledge) GET, 1 KiB response',
  grpc: 'gRPC unary (@grpc/grpc-js), 32-byte request, 1 KiB response',
};

/** The Host / :authority every target routes on. */
export const BENCH_HOST = 'svc.local';
/** The HTTP request path (HTTP/1.1 and HTTP/2). */
export const BENCH_PATH = '/api/items?id=1';
/** The path prefix the route tables match before their catch-all (HTTP and gRPC). */
export const ROUTE_PREFIX: Record<Protocol, string> = {
  http1: '/api/',
  h2: '/api/',
  grpc: '/weft.bench.Bench/',
};

/** Every answer's body (HTTP) or message (gRPC). */
export const RESPONSE_BYTES = 1024;
export const RESPONSE_PAYLOAD = Buffer.alloc(RESPONSE_BYTES, 'x');
/** The gRPC request message. */
export const GRPC_REQUEST = Buffer.alloc(32, 'q');

export const GRPC_METHOD_PATH = '/weft.bench.Bench/Echo';
const raw = (buffer: Buffer): Buffer => buffer;

/** The bench's one gRPC service: `Echo`, unary, bytes in and out (server and client use it alike). */
export const BENCH_GRPC_SERVICE: ServiceDefinition = {
  Echo: {
    path: GRPC_METHOD_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  },
};

/** Serializer pair for `Client.makeUnaryRequest`: messages are Buffers as they are. */
export const rawBytes = raw;
