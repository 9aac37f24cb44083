#!/usr/bin/env node
/**
 * One bookinfo service as a process, run by Node 24 directly (no build):
 *
 *   node examples/bookinfo/app/main.ts --service productpage --version v1 --port 9080 \
 *     [--addr 127.0.1.2] [--mesh-proxy 127.0.0.2:15001] [--namespace default]
 *
 * Calls to other services go to `http://SERVICE.NAMESPACE.svc.cluster.local:9080`
 * directly (Kubernetes, or a capturing sidecar), or, with `--mesh-proxy`, to
 * the local sidecar's outbound listener with `Host: SERVICE.NAMESPACE.svc.cluster.local:9080`
 * (Weft's local mode). Tracing headers are copied from each request onto the
 * calls it makes, as Istio's bookinfo does.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { type Call, handlerFor, isService, type UpstreamReply } from './services.ts';

const USAGE =
  'Usage: main.ts --service productpage|details|reviews|ratings --version vN --port PORT [--addr HOST] [--mesh-proxy HOST:PORT] [--namespace NS]\n';

/** Headers Istio's bookinfo propagates so that one request's spans join up. */
const PROPAGATED = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'baggage',
  'user-agent',
];
const UPSTREAM_TIMEOUT_MS = 3000;
const SERVICE_PORT = 9080;

interface Options {
  readonly service: string;
  readonly version: string;
  readonly port: number;
  readonly addr: string;
  readonly namespace: string;
  readonly meshProxy: { host: string; port: number } | undefined;
}

function parseOptions(argv: string[]): Options | string[] {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        service: { type: 'string' },
        version: { type: 'string', default: 'v1' },
        port: { type: 'string', default: String(SERVICE_PORT) },
        addr: { type: 'string', default: '0.0.0.0' },
        namespace: { type: 'string', default: 'default' },
        'mesh-proxy': { type: 'string' },
      },
    }).values as Record<string, string | undefined>;
  } catch (error) {
    return [(error as Error).message];
  }
  const problems: string[] = [];
  const service = values.service ?? '';
  if (!isService(service))
    problems.push(
      `--service: expected productpage, details, reviews or ratings, got ${JSON.stringify(service)}`,
    );
  const version = values.version ?? '';
  if (!/^v\d+$/.test(version)) problems.push(`--version: expected vN, got ${JSON.stringify(version)}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`--port: expected 0..65535, got ${JSON.stringify(values.port)}`);
  let meshProxy: Options['meshProxy'];
  if (values['mesh-proxy'] !== undefined) {
    const match = /^([^:]+):(\d{1,5})$/.exec(values['mesh-proxy']);
    if (!match)
      problems.push(`--mesh-proxy: expected HOST:PORT, got ${JSON.stringify(values['mesh-proxy'])}`);
    else meshProxy = { host: match[1]!, port: Number(match[2]) };
  }
  if (problems.length > 0) return problems;
  return {
    service,
    version,
    port,
    addr: values.addr ?? '0.0.0.0',
    namespace: values.namespace ?? 'default',
    meshProxy,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function makeCall(options: Options, incoming: http.IncomingHttpHeaders): Call {
  const headers: Record<string, string> = {};
  for (const name of PROPAGATED) {
    const value = incoming[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return (service, path) => {
    const authority = `${service}.${options.namespace}.svc.cluster.local:${SERVICE_PORT}`;
    const target = options.meshProxy ?? { host: authority.split(':')[0]!, port: SERVICE_PORT };
    return new Promise<UpstreamReply>((resolve) => {
      const request = http.request(
        {
          agent,
          host: target.host,
          port: target.port,
          path,
          method: 'GET',
          headers: { ...headers, host: authority, accept: 'application/json' },
          timeout: UPSTREAM_TIMEOUT_MS,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              // not JSON (a proxy's local reply): keep the text
            }
            resolve({ status: response.statusCode ?? 502, body });
          });
          response.on('error', () => resolve({ status: 502, body: 'upstream response aborted' }));
        },
      );
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', (error) => resolve({ status: 503, body: error.message }));
      request.end();
    });
  };
}

function serve(options: Options): http.Server {
  const handler = handlerFor(options);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    handler(path, makeCall(options, req.headers)).then(
      (reply) => {
        res.writeHead(reply.status, {
          'content-type': reply.contentType,
          'x-bookinfo-service': `${options.service}-${options.version}`,
        });
        res.end(reply.body);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal error: ${String(error)}\n`);
      },
    );
  });
  server.keepAliveTimeout = 30_000;
  return server;
}

const parsed = parseOptions(process.argv.slice(2));
if (Array.isArray(parsed)) {
  process.stderr.write(`${parsed.map((p) => `bookinfo: ${p}`).join('\n')}\n${USAGE}`);
  process.exit(2);
}
const server = serve(parsed);
server.on('error', (error) => {
  process.stderr.write(`bookinfo ${parsed.service}-${parsed.version}: ${error.message}\n`);
  process.exit(1);
});
server.listen(parsed.port, parsed.addr, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : parsed.port;
  process.stdout.write(
    `${JSON.stringify({ msg: 'bookinfo service listening', service: parsed.service, version: parsed.version, addr: parsed.addr, port })}\n`,
  );
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
