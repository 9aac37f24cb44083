/**
 * The admission webhook HTTPS server (port 15017): `POST /inject` and
 * `POST /validate` take an AdmissionReview v1 and answer one; `GET /ready`
 * answers 200. A body that is not JSON, too large, or not an AdmissionReview
 * gets 400 with the reasons; the server keeps serving.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@weft/telemetry';
import { formatHostPort, type HostPort } from '../serve/host-port.ts';
import {
  type AdmissionRequest,
  type AdmissionResult,
  admissionReviewResponse,
  parseAdmissionReview,
} from './admission-review.ts';

/** Largest AdmissionReview accepted (the API server's own request limit is 3 MiB of object). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface WebhookServerOptions {
  address: HostPort;
  /** Serving certificate and key (PEM). */
  tls: { certPem: string; keyPem: string };
  inject: (request: AdmissionRequest) => Promise<AdmissionResult>;
  validate: (request: AdmissionRequest) => AdmissionResult | Promise<AdmissionResult>;
  logger?: Logger;
}

export interface WebhookServer {
  /** Bound `HOST:PORT`. */
  readonly address: string;
  /** Replaces the serving certificate for new connections. */
  setCertificate(tls: { certPem: string; keyPem: string }): void;
  /** Stops listening and closes connections. Safe to repeat. */
  close(): Promise<void>;
}

export class WebhookStartError extends Error {
  readonly code = 'WEBHOOK_LISTEN_FAILED';
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'WebhookStartError';
  }
}

function readBody(
  req: IncomingMessage,
): Promise<{ ok: true; text: string } | { ok: false; message: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(
        tooLarge
          ? { ok: false, message: `body larger than ${MAX_BODY_BYTES} bytes` }
          : { ok: true, text: Buffer.concat(chunks).toString('utf8') },
      ),
    );
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
  });
  res.end(text);
}

/** Starts the server; rejects with WebhookStartError when the address cannot be bound. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const log = options.logger;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'https://webhook').pathname;
    if (req.method === 'GET' && path === '/ready') return reply(res, 200, 'ready\n');
    const handler = path === '/inject' ? options.inject : path === '/validate' ? options.validate : undefined;
    if (!handler) return reply(res, 404, `no webhook at ${path}; use /inject or /validate\n`);
    if (req.method !== 'POST') return reply(res, 405, `${path} takes POST\n`);
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.startsWith('application/json')) {
      return reply(res, 400, `content-type must be application/json, got ${JSON.stringify(contentType)}\n`);
    }
    const body = await readBody(req);
    if (!body.ok) return reply(res, 400, `${body.message}\n`);
    let decoded: unknown;
    try {
      decoded = JSON.parse(body.text);
    } catch (error) {
      return reply(res, 400, `body is not JSON: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    const parsed = parseAdmissionReview(decoded);
    if (!parsed.ok) {
      log?.warn('malformed AdmissionReview', { path, problems: parsed.problems });
      return reply(res, 400, `malformed AdmissionReview:\n${parsed.problems.join('\n')}\n`);
    }
    const result = await handler(parsed.request);
    reply(res, 200, admissionReviewResponse(parsed.request.uid, result));
  };
  const server: Server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log?.error('webhook handler failed', { error });
      if (!res.headersSent) reply(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  server.on('tlsClientError', (error) =>
    log?.debug('webhook TLS handshake failed', { error: error.message }),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.address.port, options.address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (cause) {
    throw new WebhookStartError(
      `cannot listen for the admission webhooks on ${formatHostPort(options.address)}`,
      cause,
    );
  }
  let closing: Promise<void> | undefined;
  return {
    address: formatHostPort({ host: options.address.host, port: (server.address() as AddressInfo).port }),
    setCertificate: (tls) => server.setSecureContext({ cert: tls.certPem, key: tls.keyPem }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
