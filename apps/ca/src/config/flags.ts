/**
 * Command-line flags of `weft-ca` and `weft-ca token`: the only place the
 * CA reads its configuration. Parsing never throws; it returns every problem
 * with the flag it concerns.
 */
import { isIP } from 'node:net';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { type Problem, validateTrustDomain, validateWorkloadIdentity } from '@weft/pki';
import { type LogLevel, parseLogLevel } from '@weft/telemetry';
import { parseDuration } from './duration.ts';

export interface HostPort {
  host: string;
  port: number;
}

/** Everything `startCa` needs; built from flags or by tests and `weft up`. */
export interface CaOptions {
  stateDir: string;
  grpcAddr: HostPort;
  httpAddr: HostPort;
  trustDomain: string;
  /** Default lifetime of an issued certificate when the request asks for none, seconds. */
  certTtlSeconds: number;
  /** Largest lifetime granted, seconds. */
  maxCertTtlSeconds: number;
  /** Key of a self-signed root generated on first start: EC P-256 or RSA 2048. */
  caKeyType: 'ec' | 'rsa';
  /** Directory with an operator-supplied intermediate (`ca-cert.pem`, `ca-key.pem`, `root-cert.pem`, `cert-chain.pem`). */
  pluggedCaDir?: string;
  /** Extra DNS names (or IPs) on the CA's serving certificate. */
  servingNames: string[];
  /** Authenticate with Kubernetes TokenReview instead of local tokens. */
  kube: boolean;
  /** Kubeconfig for `kube`; default: the standard lookup (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfig?: string;
  /** With `kube`: the CA's namespace, home of its Secrets (`istio-ca-secret`, `cacerts`); default `weft-system`. */
  kubeNamespace?: string;
  logLevel: LogLevel;
}

export interface TokenOptions {
  stateDir: string;
  namespace: string;
  serviceAccount: string;
  ttlSeconds: number;
}

export type FlagsResult<T> = { ok: true; options: T } | { ok: false; problems: Problem[] } | { ok: 'help' };

export const SERVE_HELP = `Usage: weft-ca --state-dir DIR [flags]
       weft-ca token --state-dir DIR --namespace NS --service-account SA [--ttl 1h]

The Weft certificate authority: authenticates workloads and signs SPIFFE
X.509-SVIDs over the Istio CA API (istio.v1.auth.IstioCertificateService).

Flags:
  --state-dir DIR          where the CA keeps its root, token key and audit log (required)
  --grpc-addr HOST:PORT    CA gRPC over TLS (default 127.0.0.1:15012; port 0 picks one)
  --http-addr HOST:PORT    HTTP /root-cert, /metrics, /ready (default 127.0.0.1:15015)
  --trust-domain NAME      SPIFFE trust domain (default cluster.local)
  --cert-ttl DURATION      lifetime when a request asks for none (default 24h)
  --max-cert-ttl DURATION  longest lifetime granted; longer requests are capped (default 48h)
  --ca-key-type ec|rsa     key of a generated self-signed root: EC P-256 or RSA 2048 (default ec)
  --plugged-ca-dir DIR     use an operator-supplied intermediate: ca-cert.pem, ca-key.pem,
                           root-cert.pem, cert-chain.pem (Istio's cacerts layout)
  --serving-names A,B      extra DNS names/IPs on the CA's serving certificate
                           (always valid for localhost and 127.0.0.1); repeatable
  --kube                   authenticate callers with Kubernetes TokenReview (audience istio-ca)
  --kubeconfig PATH        kubeconfig for --kube (default: KUBECONFIG, ~/.kube/config or in-cluster)
  --kube-namespace NS      with --kube: the CA's namespace, where the root is kept in Secret
                           istio-ca-secret (or read from cacerts); default $POD_NAMESPACE or weft-system
  --log-level LEVEL        debug|info|warn|error (default info)
  --help                   print this help

weft-ca token flags:
  --state-dir DIR          the CA's state dir (holds the token signing key)
  --namespace NS           workload namespace
  --service-account SA     workload service account
  --ttl DURATION           token lifetime (default 1h)
Prints the token alone on stdout.
`;

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_NAME = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);

function parseHostPort(value: string, field: string, problems: Problem[]): HostPort {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port > 65_535) {
    problems.push({ field, message: `"${value}" is not HOST:PORT` });
    return { host: '127.0.0.1', port: 0 };
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

function durationFlag(value: string, field: string, problems: Problem[]): number {
  const parsed = parseDuration(value, field);
  if ('problem' in parsed) {
    problems.push(parsed.problem);
    return 0;
  }
  return parsed.seconds;
}

function parse(argv: string[], options: ParseArgsOptionsConfig) {
  try {
    return { parsed: parseArgs({ args: argv, options, strict: true, allowPositionals: false }) };
  } catch (error) {
    return { problem: { field: '', message: (error as Error).message } };
  }
}

/** Default of `--kube-namespace` when neither the flag nor `POD_NAMESPACE` is set. */
export const DEFAULT_KUBE_NAMESPACE = 'weft-system';

/**
 * Parses the serving flags. Never throws. `env` supplies `POD_NAMESPACE`
 * (the downward API's namespace) as the default of `--kube-namespace`.
 */
export function parseServeFlags(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): FlagsResult<CaOptions> {
  const result = parse(argv, {
    'state-dir': { type: 'string' },
    'grpc-addr': { type: 'string', default: '127.0.0.1:15012' },
    'http-addr': { type: 'string', default: '127.0.0.1:15015' },
    'trust-domain': { type: 'string', default: 'cluster.local' },
    'cert-ttl': { type: 'string', default: '24h' },
    'max-cert-ttl': { type: 'string', default: '48h' },
    'ca-key-type': { type: 'string', default: 'ec' },
    'plugged-ca-dir': { type: 'string' },
    'serving-names': { type: 'string', multiple: true, default: [] },
    kube: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    'kube-namespace': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', default: false },
  });
  if ('problem' in result) return { ok: false, problems: [result.problem!] };
  const values = result.parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (values.help) return { ok: 'help' };
  const problems: Problem[] = [];
  const str = (name: string): string => String(values[name] ?? '');
  if (!values['state-dir']) problems.push({ field: '--state-dir', message: 'is required' });
  const grpcAddr = parseHostPort(str('grpc-addr'), '--grpc-addr', problems);
  const httpAddr = parseHostPort(str('http-addr'), '--http-addr', problems);
  const trustDomain = str('trust-domain');
  problems.push(...validateTrustDomain(trustDomain, '--trust-domain'));
  const certTtlSeconds = durationFlag(str('cert-ttl'), '--cert-ttl', problems);
  const maxCertTtlSeconds = durationFlag(str('max-cert-ttl'), '--max-cert-ttl', problems);
  if (certTtlSeconds > 0 && maxCertTtlSeconds > 0 && certTtlSeconds > maxCertTtlSeconds) {
    problems.push({ field: '--cert-ttl', message: 'is longer than --max-cert-ttl' });
  }
  const caKeyType = str('ca-key-type');
  if (caKeyType !== 'ec' && caKeyType !== 'rsa')
    problems.push({ field: '--ca-key-type', message: 'must be ec or rsa' });
  const logLevel = parseLogLevel(str('log-level'));
  if (!logLevel) problems.push({ field: '--log-level', message: 'must be debug, info, warn or error' });
  const servingNames = (values['serving-names'] as string[])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  servingNames.forEach((name, i) => {
    if (isIP(name) === 0 && !DNS_NAME.test(name)) {
      problems.push({
        field: `--serving-names[${i}]`,
        message: `"${name}" is neither a DNS name nor an IP address`,
      });
    }
  });
  const kubeNamespace = values['kube-namespace']
    ? str('kube-namespace')
    : env.POD_NAMESPACE || DEFAULT_KUBE_NAMESPACE;
  if (!DNS_LABEL.test(kubeNamespace)) {
    problems.push({
      field: '--kube-namespace',
      message: `"${kubeNamespace}" is not a Kubernetes namespace name`,
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    options: {
      stateDir: str('state-dir'),
      grpcAddr,
      httpAddr,
      trustDomain,
      certTtlSeconds,
      maxCertTtlSeconds,
      caKeyType: caKeyType as 'ec' | 'rsa',
      pluggedCaDir: values['plugged-ca-dir'] ? str('plugged-ca-dir') : undefined,
      servingNames,
      kube: Boolean(values.kube),
      kubeconfig: values.kubeconfig ? str('kubeconfig') : undefined,
      kubeNamespace,
      logLevel: logLevel!,
    },
  };
}

/** Parses `weft-ca token` flags (after the `token` word). Never throws. */
export function parseTokenFlags(argv: string[]): FlagsResult<TokenOptions> {
  const result = parse(argv, {
    'state-dir': { type: 'string' },
    namespace: { type: 'string' },
    'service-account': { type: 'string' },
    ttl: { type: 'string', default: '1h' },
    help: { type: 'boolean', default: false },
  });
  if ('problem' in result) return { ok: false, problems: [result.problem!] };
  const values = result.parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { ok: 'help' };
  const problems: Problem[] = [];
  for (const name of ['state-dir', 'namespace', 'service-account']) {
    if (!values[name]) problems.push({ field: `--${name}`, message: 'is required' });
  }
  const namespace = String(values.namespace ?? '');
  const serviceAccount = String(values['service-account'] ?? '');
  if (namespace && serviceAccount) {
    for (const p of validateWorkloadIdentity({ trustDomain: 'x', namespace, serviceAccount })) {
      problems.push({
        field: p.field === 'namespace' ? '--namespace' : '--service-account',
        message: p.message,
      });
    }
  }
  const ttlSeconds = durationFlag(String(values.ttl), '--ttl', problems);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    options: { stateDir: String(values['state-dir']), namespace, serviceAccount, ttlSeconds },
  };
}
