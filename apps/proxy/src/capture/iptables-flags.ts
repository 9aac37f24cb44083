/**
 * `weft-proxy iptables` command line: flags -> CaptureOptions plus the
 * mode (install, --dry-run, --cleanup). Parsing never throws: bad values
 * come back as problems naming the flag.
 */
import { isIPv4 } from 'node:net';
import { parseArgs } from 'node:util';
import { type CaptureOptions, DEFAULT_CAPTURE_OPTIONS } from './iptables-rules.ts';

export const IPTABLES_HELP = `weft-proxy iptables: install the traffic capture rules (nat table) for a sidecar.

Usage:
  weft-proxy iptables [--proxy-uid 1337] [--proxy-gid 1337] [--inbound-port 15006] [--outbound-port 15001]
                      [--include-inbound-ports '*'] [--exclude-inbound-ports 15008,15090,15021,15020]
                      [--include-outbound-cidrs '*'] [--exclude-outbound-cidrs CIDR,...]
                      [--exclude-outbound-ports PORT,...] [--dry-run | --cleanup]

Flags:
  --proxy-uid UID               UID whose outbound traffic is not captured (the proxy's; default 1337).
  --proxy-gid GID               GID likewise (default 1337).
  --inbound-port PORT           Where inbound TCP is redirected (default 15006).
  --outbound-port PORT          Where outbound TCP is redirected (default 15001).
  --include-inbound-ports LIST  '*' (default): every port but the excluded ones; a list: only these; '': none.
  --exclude-inbound-ports LIST  Ports never captured inbound (default 15008,15090,15021,15020; the given
                                list is added to these).
  --include-outbound-cidrs LIST '*' (default): every destination but the excluded; a list: only these; '': none.
  --exclude-outbound-cidrs LIST IPv4 CIDRs never captured outbound.
  --exclude-outbound-ports LIST Destination ports never captured outbound.
  --dry-run                     Print the iptables-restore input and change nothing.
  --cleanup                     Remove the capture rules and chains, install nothing.
  --help                        Show this help.

Installing needs NET_ADMIN (root) and the iptables package; it replaces an earlier install atomically.
`;

export type IptablesMode = 'install' | 'dry-run' | 'cleanup';

export type ParsedIptablesFlags =
  | { readonly kind: 'help' }
  | { readonly kind: 'ok'; readonly mode: IptablesMode; readonly options: CaptureOptions }
  | { readonly kind: 'error'; readonly problems: readonly string[] };

function parseList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function parsePorts(flag: string, value: string, problems: string[]): number[] {
  const ports: number[] = [];
  for (const item of parseList(value)) {
    const port = /^\d{1,5}$/.test(item) ? Number(item) : Number.NaN;
    if (port >= 1 && port <= 65535) ports.push(port);
    else problems.push(`--${flag}: expected ports 1-65535 separated by commas, got ${JSON.stringify(item)}`);
  }
  return ports;
}

function parseCidrs(flag: string, value: string, problems: string[]): string[] {
  const cidrs: string[] = [];
  for (const item of parseList(value)) {
    const [address = '', bits, ...rest] = item.split('/');
    const prefix = bits === undefined ? 32 : /^\d{1,2}$/.test(bits) ? Number(bits) : Number.NaN;
    if (isIPv4(address) && prefix >= 0 && prefix <= 32 && rest.length === 0)
      cidrs.push(`${address}/${prefix}`);
    else
      problems.push(
        `--${flag}: expected IPv4 CIDRs (a.b.c.d/n) separated by commas, got ${JSON.stringify(item)}`,
      );
  }
  return cidrs;
}

function parseId(flag: string, value: string, problems: string[]): number {
  const id = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (id >= 0 && id <= 0xfffffffe) return id;
  problems.push(`--${flag}: expected a numeric id, got ${JSON.stringify(value)}`);
  return 0;
}

function parsePort(flag: string, value: string, problems: string[]): number {
  const [port] = parsePorts(flag, value, problems);
  if (port === undefined && !problems.some((p) => p.startsWith(`--${flag}:`)))
    problems.push(`--${flag}: expected a port 1-65535`);
  return port ?? 0;
}

/** Parses the arguments after `iptables`. */
export function parseIptablesFlags(argv: readonly string[]): ParsedIptablesFlags {
  let values: Record<string, string | boolean | undefined>;
  const d = DEFAULT_CAPTURE_OPTIONS;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'proxy-uid': { type: 'string', default: String(d.proxyUid) },
        'proxy-gid': { type: 'string', default: String(d.proxyGid) },
        'inbound-port': { type: 'string', default: String(d.inboundPort) },
        'outbound-port': { type: 'string', default: String(d.outboundPort) },
        'include-inbound-ports': { type: 'string', default: '*' },
        'exclude-inbound-ports': { type: 'string', default: '' },
        'include-outbound-cidrs': { type: 'string', default: '*' },
        'exclude-outbound-cidrs': { type: 'string', default: '' },
        'exclude-outbound-ports': { type: 'string', default: '' },
        'dry-run': { type: 'boolean', default: false },
        cleanup: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    return { kind: 'error', problems: [(error as Error).message] };
  }
  if (values.help) return { kind: 'help' };
  const problems: string[] = [];
  const str = (name: string): string => String(values[name] ?? '');
  const includeInbound = str('include-inbound-ports').trim();
  const includeOutbound = str('include-outbound-cidrs').trim();
  const options: CaptureOptions = {
    proxyUid: parseId('proxy-uid', str('proxy-uid'), problems),
    proxyGid: parseId('proxy-gid', str('proxy-gid'), problems),
    inboundPort: parsePort('inbound-port', str('inbound-port'), problems),
    outboundPort: parsePort('outbound-port', str('outbound-port'), problems),
    includeInboundPorts:
      includeInbound === '*' ? '*' : parsePorts('include-inbound-ports', includeInbound, problems),
    excludeInboundPorts: [
      ...d.excludeInboundPorts,
      ...parsePorts('exclude-inbound-ports', str('exclude-inbound-ports'), problems),
    ],
    includeOutboundCidrs:
      includeOutbound === '*' ? '*' : parseCidrs('include-outbound-cidrs', includeOutbound, problems),
    excludeOutboundCidrs: parseCidrs('exclude-outbound-cidrs', str('exclude-outbound-cidrs'), problems),
    excludeOutboundPorts: parsePorts('exclude-outbound-ports', str('exclude-outbound-ports'), problems),
  };
  if (values['dry-run'] && values.cleanup) problems.push('--dry-run and --cleanup: give at most one');
  if (problems.length > 0) return { kind: 'error', problems };
  const mode: IptablesMode = values['dry-run'] ? 'dry-run' : values.cleanup ? 'cleanup' : 'install';
  return { kind: 'ok', mode, options };
}
