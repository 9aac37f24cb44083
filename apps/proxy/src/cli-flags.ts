/**
 * weft-proxy's command line: flag definitions, --help text, and parsing
 * into validated options. Parsing never throws: bad flags come back as
 * problems naming the flag.
 */
import { parseArgs } from 'node:util';
import { type LogLevel, parseLogLevel } from '@weft/telemetry';
import {
  AGENT_FLAG_OPTIONS,
  AGENT_FLAGS_HELP,
  type AgentFlags,
  parseAgentFlags,
} from './agent/agent-flags.ts';

export const HELP = `weft-proxy: the Weft data plane (Envoy xDS v3 over ADS).

Usage:
  weft-proxy --discovery HOST:PORT [--mode sidecar|router]
             [--node-id ID | --namespace NS --workload NAME [--ip IP]]
             [--admin-addr 127.0.0.1:15000] [--listener NAME=HOST:PORT ...]
  weft-proxy iptables [--dry-run | --cleanup] ...   install the capture rules (see weft-proxy iptables --help)

Flags:
  --discovery HOST:PORT     ADS server (weft-discovery's plaintext xDS port is 15010). Required.
  --ads-mode sotw|delta     xDS variant (default sotw).
  --mode sidecar|router     Node type in the node id (default sidecar; router for gateways).
  --node-id ID              Full node id (TYPE~IP~ID~DNSDOMAIN). Overrides the next three.
  --namespace NS            Workload namespace (default "default").
  --workload NAME           Workload (pod) name; the node id becomes MODE~IP~NAME.NS~NS.svc.cluster.local.
  --ip IP                   Instance IP in the node id and INSTANCE_IPS (default 127.0.0.1).
  --cluster NAME            Service cluster sent in the node (default: the workload name).
  --admin-addr HOST:PORT    Admin endpoint (default 127.0.0.1:15000; loopback only unless you say otherwise).
  --stats-addr HOST:PORT    Serve Prometheus stats at GET /stats/prometheus (Istio's 15090, e.g.
                            0.0.0.0:15090 in a pod). Only that path and /healthz/ready. Default off.
  --health-addr HOST:PORT   Serve GET /healthz/ready: 200 once config is applied, else 503 (Istio's
                            15021 readiness probe, e.g. 0.0.0.0:15021 in a pod). Default off.
  --listener NAME=HOST:PORT Local mode: bind the LDS listener NAME on HOST:PORT instead of its LDS
                            address (repeatable). E.g. --listener virtualOutbound=127.0.0.1:15001.
  --interception NONE|REDIRECT  INTERCEPTION_MODE metadata (default NONE: local mode, explicit
                            listeners; REDIRECT: iptables capture to 15001/15006).
  --label KEY=VALUE         Workload label sent as node metadata LABELS (repeatable), as Istio's
                            ISTIO_METAJSON_LABELS: selectors (Gateway, policies) match on them.
  --metadata KEY=VALUE      Extra node metadata sent to discovery (repeatable), e.g. local mode's
                            LOCAL_APP_ADDRESS=127.0.1.2 (where the application listens).
  --concurrency N           Worker processes sharing the listeners (SO_REUSEPORT; default 1). With
                            N > 1 the primary holds ADS and admin, workers serve traffic; give
                            listeners fixed ports (port 0 would differ per worker).
  --drain-time MS           How long old listeners' connections may finish after an update or
                            SIGTERM (default 5000).
${AGENT_FLAGS_HELP}  --access-log [stdout|PATH] Write one JSON access log line per request to stdout (alone or
                            "stdout") or append it to the file PATH. Off by default.
  --trace-sample-rate R     Share of new traces sampled, 0..1 (default 1; callers' decisions are kept).
  --trace-otlp-endpoint URL Export sampled spans over OTLP/HTTP, e.g. http://127.0.0.1:4318/v1/traces.
  --trace-console           Print sampled spans on stdout.
  --log-level LEVEL         debug|info|warn|error (default info). Logs are JSON lines on stderr.
  --help                    Show this help.
`;

export interface ProxyFlags {
  readonly discovery: string;
  readonly adsMode: 'sotw' | 'delta';
  readonly nodeId: string;
  readonly cluster: string;
  /** Node metadata: strings, plus LABELS (an object) when --label was given. */
  readonly metadata: Record<string, unknown>;
  readonly admin: { host: string; port: number };
  /** Status servers (--stats-addr, --health-addr), each GET /stats/prometheus and /healthz/ready. */
  readonly status: readonly { host: string; port: number }[];
  readonly listeners: Map<string, { host: string; port: number }>;
  readonly concurrency: number;
  readonly drainTimeMs: number;
  /** `stdout`, a file path to append to, or undefined (no access log). */
  readonly accessLog: string | undefined;
  readonly traceSampleRate: number;
  readonly tracing: { readonly otlpEndpoint?: string; readonly console?: boolean } | undefined;
  readonly logLevel: LogLevel;
  /** The identity agent's settings; undefined without --ca-addr (no mTLS). */
  readonly agent: AgentFlags | undefined;
}

export type ParsedFlags =
  | { readonly kind: 'help' }
  | { readonly kind: 'ok'; readonly flags: ProxyFlags }
  | { readonly kind: 'error'; readonly problems: readonly string[] };

function parseHostPort(value: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * `--access-log` takes an optional value, which parseArgs cannot express:
 * alone it means stdout; followed by a word that is not a flag, that word
 * is the sink (`stdout` or a path).
 */
function normalizeAccessLog(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg !== '--access-log') {
      out.push(arg);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      out.push(`--access-log=${next}`);
      i++;
    } else {
      out.push('--access-log=stdout');
    }
  }
  return out;
}

/** Parses argv (without node and script). */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args: normalizeAccessLog(argv),
      strict: true,
      allowPositionals: false,
      options: {
        discovery: { type: 'string' },
        'ads-mode': { type: 'string', default: 'sotw' },
        mode: { type: 'string', default: 'sidecar' },
        'node-id': { type: 'string' },
        namespace: { type: 'string', default: 'default' },
        workload: { type: 'string' },
        ip: { type: 'string', default: '127.0.0.1' },
        cluster: { type: 'string' },
        'admin-addr': { type: 'string', default: '127.0.0.1:15000' },
        'stats-addr': { type: 'string' },
        'health-addr': { type: 'string' },
        listener: { type: 'string', multiple: true, default: [] },
        interception: { type: 'string', default: 'NONE' },
        metadata: { type: 'string', multiple: true, default: [] },
        label: { type: 'string', multiple: true, default: [] },
        concurrency: { type: 'string', default: '1' },
        'drain-time': { type: 'string', default: '5000' },
        'access-log': { type: 'string' },
        'trace-sample-rate': { type: 'string', default: '1' },
        'trace-otlp-endpoint': { type: 'string' },
        'trace-console': { type: 'boolean', default: false },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', default: false },
        ...AGENT_FLAG_OPTIONS,
      },
    }).values;
  } catch (error) {
    return { kind: 'error', problems: [(error as Error).message] };
  }
  if (values.help) return { kind: 'help' };
  const problems: string[] = [];
  const str = (name: string): string => (values[name] as string | undefined) ?? '';
  const discovery = str('discovery');
  if (!discovery) problems.push('--discovery: is required (HOST:PORT of the ADS server)');
  else if (!parseHostPort(discovery))
    problems.push(`--discovery: expected HOST:PORT, got ${JSON.stringify(discovery)}`);
  const adsMode = str('ads-mode');
  if (adsMode !== 'sotw' && adsMode !== 'delta')
    problems.push(`--ads-mode: expected sotw or delta, got ${JSON.stringify(adsMode)}`);
  const mode = str('mode');
  if (mode !== 'sidecar' && mode !== 'router')
    problems.push(`--mode: expected sidecar or router, got ${JSON.stringify(mode)}`);
  const namespace = str('namespace');
  const workload = str('workload');
  const ip = str('ip');
  let nodeId = str('node-id');
  if (!nodeId) {
    if (!workload) problems.push('--node-id or --workload: one is required to name this proxy');
    nodeId = `${mode}~${ip}~${workload}.${namespace}~${namespace}.svc.cluster.local`;
  } else if (nodeId.split('~').length !== 4) {
    problems.push(`--node-id: expected TYPE~IP~ID~DNSDOMAIN, got ${JSON.stringify(nodeId)}`);
  }
  const admin = parseHostPort(str('admin-addr'));
  if (!admin) problems.push(`--admin-addr: expected HOST:PORT, got ${JSON.stringify(str('admin-addr'))}`);
  const status: { host: string; port: number }[] = [];
  for (const flag of ['stats-addr', 'health-addr']) {
    const value = values[flag];
    if (typeof value !== 'string') continue;
    const address = parseHostPort(value);
    if (address) status.push(address);
    else problems.push(`--${flag}: expected HOST:PORT, got ${JSON.stringify(value)}`);
  }
  const listeners = new Map<string, { host: string; port: number }>();
  for (const spec of (values.listener as string[] | undefined) ?? []) {
    const eq = spec.indexOf('=');
    const address = eq > 0 ? parseHostPort(spec.slice(eq + 1)) : undefined;
    if (!address) problems.push(`--listener: expected NAME=HOST:PORT, got ${JSON.stringify(spec)}`);
    else listeners.set(spec.slice(0, eq), address);
  }
  const extraMetadata: Record<string, string> = {};
  for (const spec of (values.metadata as string[] | undefined) ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) problems.push(`--metadata: expected KEY=VALUE, got ${JSON.stringify(spec)}`);
    else extraMetadata[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  const labels: Record<string, string> = {};
  for (const spec of (values.label as string[] | undefined) ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) problems.push(`--label: expected KEY=VALUE, got ${JSON.stringify(spec)}`);
    else labels[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  const interception = str('interception');
  if (interception !== 'NONE' && interception !== 'REDIRECT') {
    problems.push(`--interception: expected NONE or REDIRECT, got ${JSON.stringify(interception)}`);
  }
  const concurrency = Number(str('concurrency'));
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    problems.push(
      `--concurrency: expected an integer from 1 to 64, got ${JSON.stringify(str('concurrency'))}`,
    );
  const drainTimeMs = Number(str('drain-time'));
  if (!Number.isInteger(drainTimeMs) || drainTimeMs < 0)
    problems.push('--drain-time: expected milliseconds (an integer >= 0)');
  const accessLog = values['access-log'] as string | undefined;
  if (accessLog === '') problems.push('--access-log: expected stdout or a file path, got ""');
  const traceSampleRate = Number(str('trace-sample-rate'));
  if (str('trace-sample-rate') === '' || !(traceSampleRate >= 0 && traceSampleRate <= 1))
    problems.push(
      `--trace-sample-rate: expected a number from 0 to 1, got ${JSON.stringify(str('trace-sample-rate'))}`,
    );
  const otlpEndpoint = str('trace-otlp-endpoint');
  if (otlpEndpoint && !/^https?:\/\/[^/\s]+/.test(otlpEndpoint))
    problems.push(`--trace-otlp-endpoint: expected an http(s) URL, got ${JSON.stringify(otlpEndpoint)}`);
  const traceConsole = values['trace-console'] === true;
  const logLevel = parseLogLevel(str('log-level'));
  if (!logLevel)
    problems.push(
      `--log-level: expected debug, info, warn or error, got ${JSON.stringify(str('log-level'))}`,
    );
  const agent = parseAgentFlags(values, problems);
  if (problems.length > 0) return { kind: 'error', problems };
  return {
    kind: 'ok',
    flags: {
      discovery,
      adsMode: adsMode as 'sotw' | 'delta',
      nodeId,
      cluster: str('cluster') || workload || nodeId.split('~')[2] || 'weft-proxy',
      metadata: {
        NAMESPACE: namespace,
        ...(workload ? { WORKLOAD_NAME: workload } : {}),
        INSTANCE_IPS: ip,
        INTERCEPTION_MODE: interception,
        ...extraMetadata,
        ...(Object.keys(labels).length > 0 ? { LABELS: labels } : {}),
      },
      admin: admin!,
      status,
      listeners,
      concurrency,
      drainTimeMs,
      accessLog,
      traceSampleRate,
      tracing:
        otlpEndpoint || traceConsole
          ? { ...(otlpEndpoint ? { otlpEndpoint } : {}), ...(traceConsole ? { console: true } : {}) }
          : undefined,
      logLevel: logLevel!,
      agent,
    },
  };
}
