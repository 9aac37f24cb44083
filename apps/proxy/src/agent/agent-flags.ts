/**
 * The identity agent's flags: `--ca-addr`, `--token-file`, `--ca-root-file`,
 * `--trust-domain`, `--service-account`, `--cert-ttl`. Without `--ca-addr`
 * the proxy has no identity (and NACKs resources that need SDS). Parsing
 * never throws: problems name the flag.
 */

export const AGENT_FLAG_OPTIONS = {
  'ca-addr': { type: 'string' },
  'token-file': { type: 'string' },
  'ca-root-file': { type: 'string' },
  'trust-domain': { type: 'string', default: 'cluster.local' },
  'service-account': { type: 'string', default: 'default' },
  'cert-ttl': { type: 'string', default: '24h' },
} as const;

export const AGENT_FLAGS_HELP = `  --ca-addr HOST:PORT       weft-ca's gRPC address: get a workload certificate (mTLS, SDS default/ROOTCA).
  --token-file PATH         Bearer token proving the workload to the CA (re-read at every request).
  --ca-root-file PATH       PEM trust bundle: verifies the CA and peers (ROOTCA); watched for changes.
  --trust-domain TD         SPIFFE trust domain (default cluster.local).
  --service-account SA      Workload service account; the identity is spiffe://TD/ns/NS/sa/SA (default "default").
  --cert-ttl DURATION       Requested certificate lifetime, e.g. 24h, 30m, 4s (default 24h; the CA may cap it).
`;

export interface AgentFlags {
  readonly caAddress: string;
  readonly tokenFile: string;
  readonly caRootFile: string;
  readonly trustDomain: string;
  readonly serviceAccount: string;
  readonly certTtlSeconds: number;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds in `text` (`4s`, `30m`, `24h`, `1d`, or plain seconds), or undefined. */
export function parseTtlSeconds(text: string): number | undefined {
  const m = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (!m) return undefined;
  const seconds = Number(m[1]) * UNITS[m[2] ?? 's']!;
  return seconds >= 1 ? seconds : undefined;
}

/** The agent's settings from parsed flag values, or undefined without --ca-addr; problems are appended. */
export function parseAgentFlags(
  values: Readonly<Record<string, unknown>>,
  problems: string[],
): AgentFlags | undefined {
  const str = (name: string): string => (typeof values[name] === 'string' ? (values[name] as string) : '');
  const caAddress = str('ca-addr');
  if (!caAddress) {
    for (const name of ['token-file', 'ca-root-file'])
      if (str(name)) problems.push(`--${name}: only meaningful with --ca-addr`);
    return undefined;
  }
  if (!/^(\[[^\]]+\]|[^:]+):\d{1,5}$/.test(caAddress))
    problems.push(`--ca-addr: expected HOST:PORT, got ${JSON.stringify(caAddress)}`);
  if (!str('token-file')) problems.push('--token-file: is required with --ca-addr');
  if (!str('ca-root-file')) problems.push('--ca-root-file: is required with --ca-addr');
  const trustDomain = str('trust-domain');
  if (!/^[a-z0-9._-]+$/.test(trustDomain))
    problems.push(`--trust-domain: expected lowercase [a-z0-9._-], got ${JSON.stringify(trustDomain)}`);
  const serviceAccount = str('service-account');
  if (!/^[A-Za-z0-9._-]+$/.test(serviceAccount))
    problems.push(`--service-account: expected [A-Za-z0-9._-], got ${JSON.stringify(serviceAccount)}`);
  const certTtlSeconds = parseTtlSeconds(str('cert-ttl'));
  if (certTtlSeconds === undefined)
    problems.push(
      `--cert-ttl: expected a duration like 24h, 30m or 4s, got ${JSON.stringify(str('cert-ttl'))}`,
    );
  return {
    caAddress,
    tokenFile: str('token-file'),
    caRootFile: str('ca-root-file'),
    trustDomain,
    serviceAccount,
    certTtlSeconds: certTtlSeconds ?? 0,
  };
}
