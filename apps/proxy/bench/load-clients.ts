/**
 * The load generator's clients, one per protocol, each sending the bench's
 * request (bench-protocols.ts) to one target and classifying the answer:
 *
 * - `http1`: undici Pool, HTTP/1.1 keep-alive, no pipelining;
 * - `h2`: node:http2 sessions (h2c prior knowledge), requests spread
 *   round-robin over them, so each session carries several concurrent streams;
 * - `grpc`: @grpc/grpc-js clients, one channel (one HTTP/2 connection) each,
 *   unary Echo calls spread round-robin.
 *
 * The same client serves every target of a protocol, so their figures compare.
 */
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'undici';
import {
  BENCH_PATH,
  GRPC_METHOD_PATH,
  GRPC_REQUEST,
  type Protocol,
  RESPONSE_BYTES,
  rawBytes,
} from './bench-protocols.ts';

/** `ok`: a 2xx (HTTP) or OK (gRPC) answer with the full 1 KiB; otherwise what went wrong, for the report. */
export type Outcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: 'status' | 'error'; readonly detail: string };

export interface LoadClient {
  /** Sends one request; never rejects (failures are outcomes). */
  send(): Promise<Outcome>;
  close(): Promise<void>;
}

export interface LoadClientOptions {
  readonly protocol: Protocol;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** Host header / :authority. */
  readonly host: string;
  /** Connections (HTTP/1.1) or sessions / channels (h2, gRPC). */
  readonly connections: number;
  /** A request unanswered this long fails as `timeout` (default 10 s). */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const OK: Outcome = { ok: true };
const failure = (kind: 'status' | 'error', detail: string): Outcome => ({ ok: false, kind, detail });
const errorDetail = (error: unknown): string =>
  (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));

export function createLoadClient(options: LoadClientOptions): LoadClient {
  if (options.protocol === 'h2') return createHttp2Client(options);
  if (options.protocol === 'grpc') return createGrpcClient(options);
  return createHttp1Client(options);
}

function createHttp1Client(options: LoadClientOptions): LoadClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const pool = new Pool(options.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const headers = { host: options.host };
  return {
    async send() {
      try {
        const response = await pool.request({ method: 'GET', path: BENCH_PATH, headers });
        await response.body.dump();
        return response.statusCode === 200 ? OK : failure('status', `status ${response.statusCode}`);
      } catch (error) {
        return failure('error', errorDetail(error));
      }
    },
    close: () => pool.close(),
  };
}

function createHttp2Client(options: LoadClientOptions): LoadClient {
  const sessions: http2.ClientHttp2Session[] = [];
  let next = 0;
  const session = (): http2.ClientHttp2Session => {
    const index = next++ % options.connections;
    let current = sessions[index];
    if (!current || current.closed || current.destroyed) {
      current = http2.connect(options.origin);
      // A failed session fails its streams; the error is counted there.
      current.on('error', () => {});
      sessions[index] = current;
    }
    return current;
  };
  const headers = { ':method': 'GET', ':path': BENCH_PATH, ':authority': options.host };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    send() {
      return new Promise<Outcome>((resolve) => {
        let status = 0;
        let bytes = 0;
        const stream = session().request(headers, { endStream: true });
        stream.setTimeout(timeoutMs, () => {
          resolve(failure('error', 'timeout'));
          stream.close(http2.constants.NGHTTP2_CANCEL);
        });
        stream.on('response', (response) => {
          status = Number(response[':status']);
        });
        stream.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        stream.on('end', () => {
          if (status !== 200) resolve(failure('status', `status ${status}`));
          else if (bytes !== RESPONSE_BYTES) resolve(failure('status', `body of ${bytes} bytes`));
          else resolve(OK);
        });
        stream.on('error', (error) => resolve(failure('error', errorDetail(error))));
      });
    },
    async close() {
      // A session destroyed by an error never calls a close callback: only wait for live ones.
      await Promise.all(
        sessions.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.destroyed) resolve();
              else {
                s.once('close', () => resolve());
                s.close();
              }
            }),
        ),
      );
    },
  };
}

function createGrpcClient(options: LoadClientOptions): LoadClient {
  const target = options.origin.replace(/^http:\/\//, '');
  const clients = Array.from(
    { length: options.connections },
    () =>
      new grpc.Client(target, grpc.credentials.createInsecure(), {
        'grpc.default_authority': options.host,
        // One connection per client: without it, clients to one target share a subchannel.
        'grpc.use_local_subchannel_pool': 1,
      }),
  );
  let next = 0;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    send() {
      const client = clients[next++ % clients.length]!;
      return new Promise<Outcome>((resolve) => {
        client.makeUnaryRequest<Buffer, Buffer>(
          GRPC_METHOD_PATH,
          rawBytes,
          rawBytes,
          GRPC_REQUEST,
          { deadline: Date.now() + timeoutMs },
          (error, response) => {
            if (error) resolve(failure('status', `grpc ${grpc.status[error.code] ?? error.code}`));
            else if (response?.length !== RESPONSE_BYTES)
              resolve(failure('status', `message of ${response?.length ?? 0} bytes`));
            else resolve(OK);
          },
        );
      });
    },
    async close() {
      for (const client of clients) client.close();
    },
  };
}
