/**
 * weft-discovery's command-line flags: one table drives both `node:util`
 * parseArgs and `--help`, so every flag is documented. Parsing never throws:
 * it returns the flags, a help request, or a usage error message.
 */
import { parseArgs } from 'node:util';
import { type LogLevel, parseLogLevel } from '@weft/telemetry';
import { type HostPort, parseHostPort } from './serve/host-port.ts';

interface FlagSpec {
  type: 'string' | 'boolean';
  value?: string;
  default?: string;
  help: string;
}

/** Every flag, in the order `--help` lists them. */
export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  'config-dir': {
    type: 'string',
    value: 'DIR',
    help: 'directory of Istio YAML (ServiceEntry, WorkloadEntry, VirtualService, DestinationRule, ...), watched for changes',
  },
  'xds-addr': {
    type: 'string',
    value: 'HOST:PORT',
    default: '0.0.0.0:15010',
    help: 'plaintext xDS (ADS) gRPC address',
  },
  'http-addr': {
    type: 'string',
    value: 'HOST:PORT',
    default: '0.0.0.0:15014',
    help: 'HTTP address for /ready, /metrics and /debug/*',
  },
  'trust-domain': {
    type: 'string',
    value: 'DOMAIN',
    default: 'cluster.local',
    help: 'SPIFFE trust domain of the mesh',
  },
  debounce: {
    type: 'string',
    value: 'MS',
    default: '100',
    help: 'quiet period after a config change before pushing, in milliseconds',
  },
  kube: {
    type: 'boolean',
    help: 'read config from Kubernetes (informers on Services, EndpointSlices, Pods, Nodes, Namespaces, Istio kinds) and serve the admission webhooks',
  },
  kubeconfig: {
    type: 'string',
    value: 'FILE',
    help: 'with --kube: kubeconfig file (its current context); default the in-cluster service account',
  },
  'webhook-addr': {
    type: 'string',
    value: 'HOST:PORT',
    default: '0.0.0.0:15017',
    help: 'with --kube: HTTPS address of the admission webhooks (/inject, /validate)',
  },
  'webhook-dns': {
    type: 'string',
    value: 'NAMES',
    default: 'weft-discovery.weft-system.svc',
    help: "with --kube: comma-separated DNS names of the webhook's serving certificate (the Service the API server dials)",
  },
  'proxy-image': {
    type: 'string',
    value: 'IMAGE',
    default: 'weft-proxy:dev',
    help: 'with --kube: image of the injected weft-proxy sidecar and init container',
  },
  'injected-discovery-addr': {
    type: 'string',
    value: 'HOST:PORT',
    default: 'weft-discovery.weft-system.svc:15010',
    help: 'with --kube: xDS address injected sidecars dial',
  },
  'ca-addr': {
    type: 'string',
    value: 'HOST:PORT',
    default: 'weft-ca.weft-system.svc:15012',
    help: "with --kube: weft-ca address injected sidecars get certificates from ('' passes none)",
  },
  'log-level': { type: 'string', value: 'LEVEL', default: 'info', help: 'debug, info, warn or error' },
  help: { type: 'boolean', help: 'print this help and exit' },
};

export interface DiscoveryFlags {
  configDir: string | undefined;
  xdsAddr: HostPort;
  httpAddr: HostPort;
  trustDomain: string;
  debounceMs: number;
  kube: boolean;
  logLevel: LogLevel;
  /** The Kubernetes settings; present exactly when `kube` is true. */
  cluster?: ClusterFlags;
}

/** Flags of `--kube` mode. */
export interface ClusterFlags {
  kubeconfig: string | undefined;
  webhookAddr: HostPort;
  webhookDnsNames: string[];
  proxyImage: string;
  injectedDiscoveryAddr: string;
  caAddr: string;
}

export type ParseFlagsResult =
  | { kind: 'run'; flags: DiscoveryFlags }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

/** The `--help` text. */
export function helpText(): string {
  const rows = Object.entries(FLAGS).map(([name, spec]) => {
    const left = `  --${name}${spec.value === undefined ? '' : ` ${spec.value}`}`;
    const def = spec.default === undefined ? '' : ` (default ${spec.default})`;
    return `${left.padEnd(30)} ${spec.help}${def}`;
  });
  return [
    'Usage: weft-discovery --config-dir DIR [flags]',
    '       weft-discovery --kube [--kubeconfig FILE] [flags]',
    '',
    'The Weft control plane: reads Istio config and serves it to proxies and',
    'proxyless gRPC clients over xDS v3 (ADS).',
    '',
    'Flags:',
    ...rows,
    '',
    'Exit status: 0 after a clean shutdown (SIGTERM/SIGINT), 1 on a startup failure, 2 on a usage error.',
    '',
  ].join('\n');
}

function clusterFlags(
  text: (name: string) => string,
  address: (name: string) => HostPort,
  problems: string[],
): ClusterFlags {
  const dialed = (name: string): string => {
    const value = text(name);
    const parsed = parseHostPort(value);
    if (!parsed.ok || parsed.value.host === '0.0.0.0' || parsed.value.port === 0) {
      problems.push(`--${name}: "${value}" is not a HOST:PORT a sidecar can dial`);
    }
    return value;
  };
  const webhookDnsNames = text('webhook-dns')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  for (const name of webhookDnsNames) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name)) {
      problems.push(`--webhook-dns: "${name}" is not a lowercase DNS name`);
    }
  }
  if (webhookDnsNames.length === 0) problems.push('--webhook-dns: at least one DNS name is required');
  const proxyImage = text('proxy-image');
  if (proxyImage === '' || /\s/.test(proxyImage))
    problems.push(`--proxy-image: "${proxyImage}" is not an image reference`);
  return {
    kubeconfig: text('kubeconfig') || undefined,
    webhookAddr: address('webhook-addr'),
    webhookDnsNames,
    proxyImage,
    injectedDiscoveryAddr: dialed('injected-discovery-addr'),
    // '' leaves --ca-addr out of the injected sidecar's arguments.
    caAddr: text('ca-addr') === '' ? '' : dialed('ca-addr'),
  };
}

/** Parses `argv` (without node and script). */
export function parseFlags(argv: readonly string[]): ParseFlagsResult {
  const options = Object.fromEntries(
    Object.entries(FLAGS).map(([name, spec]) => [name, { type: spec.type }]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | boolean | undefined
    >;
  } catch (error) {
    // parseArgs reports unknown flags and missing values by throwing; turn it into a usage error.
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
  if (values.help === true) return { kind: 'help' };
  const text = (name: string): string => {
    const value = values[name];
    return typeof value === 'string' ? value : (FLAGS[name]?.default ?? '');
  };
  const problems: string[] = [];
  const address = (name: string): HostPort => {
    const parsed = parseHostPort(text(name));
    if (parsed.ok) return parsed.value;
    problems.push(`--${name}: ${parsed.message}`);
    return { host: '', port: 0 };
  };
  const xdsAddr = address('xds-addr');
  const httpAddr = address('http-addr');
  const debounceMs = Number(text('debounce'));
  if (!/^\d+$/.test(text('debounce')) || debounceMs > 60_000) {
    problems.push(`--debounce: "${text('debounce')}" is not a whole number of milliseconds from 0 to 60000`);
  }
  const logLevel = parseLogLevel(text('log-level'));
  if (logLevel === undefined)
    problems.push(`--log-level: "${text('log-level')}" is not debug, info, warn or error`);
  const trustDomain = text('trust-domain');
  if (!/^[a-z0-9._-]+$/.test(trustDomain)) {
    problems.push(
      `--trust-domain: "${trustDomain}" may hold only lowercase letters, digits, ".", "-" and "_"`,
    );
  }
  const kube = values.kube === true;
  const configDir = typeof values['config-dir'] === 'string' ? values['config-dir'] : undefined;
  if (!kube && configDir === undefined) problems.push('--config-dir DIR is required');
  if (kube && configDir !== undefined) problems.push('--kube and --config-dir are exclusive');
  const kubeOnly = [
    'kubeconfig',
    'webhook-addr',
    'webhook-dns',
    'proxy-image',
    'injected-discovery-addr',
    'ca-addr',
  ];
  if (!kube) {
    for (const name of kubeOnly) if (values[name] !== undefined) problems.push(`--${name} needs --kube`);
  }
  const cluster = kube ? clusterFlags(text, address, problems) : undefined;
  if (problems.length > 0) return { kind: 'error', message: problems.join('\n') };
  return {
    kind: 'run',
    flags: {
      configDir,
      xdsAddr,
      httpAddr,
      trustDomain,
      debounceMs,
      kube,
      logLevel: logLevel ?? 'info',
      ...(cluster ? { cluster } : {}),
    },
  };
}
