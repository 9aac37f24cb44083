/**
 * The traffic capture rules of `weft-proxy iptables`, as data: a pure
 * function from options to the nat-table rules Istio's istio-iptables
 * writes (chains ISTIO_INBOUND, ISTIO_IN_REDIRECT, ISTIO_OUTPUT,
 * ISTIO_REDIRECT), rendered as `iptables-restore --noflush` input.
 *
 * Inbound: `PREROUTING -p tcp -j ISTIO_INBOUND`; excluded ports RETURN, the
 * rest (or only the included ports) go to ISTIO_IN_REDIRECT, which
 * REDIRECTs to the inbound capture port (15006).
 *
 * Outbound: `OUTPUT -p tcp -j ISTIO_OUTPUT`; in this order (first match
 * wins): the inbound passthrough source 127.0.0.6 on lo returns; the
 * proxy's own traffic over lo to a non-loopback address (the proxy calling
 * its pod IP) is redirected inbound; other traffic over lo from anyone else
 * returns; the proxy's own traffic (UID, then GID) returns; loopback
 * destinations return; excluded ports and CIDRs return; the rest (or only
 * the included CIDRs) go to ISTIO_REDIRECT, which REDIRECTs to the outbound
 * capture port (15001).
 *
 * Installing is idempotent: the restore input first removes the jumps and
 * chains an earlier run left (read from `iptables-save -t nat`), then adds
 * the new ones, in one atomic transaction.
 */

export const CAPTURE_CHAINS = [
  'ISTIO_INBOUND',
  'ISTIO_IN_REDIRECT',
  'ISTIO_OUTPUT',
  'ISTIO_REDIRECT',
] as const;

/** Ports Istio never captures inbound: HBONE, Prometheus merge, health, agent. */
export const DEFAULT_EXCLUDED_INBOUND_PORTS: readonly number[] = [15008, 15090, 15021, 15020];

/** The capture settings (defaults as Istio's sidecar injector passes them). */
export interface CaptureOptions {
  /** UID and GID whose outbound traffic is never captured (the proxy's own). */
  readonly proxyUid: number;
  readonly proxyGid: number;
  /** Where REDIRECT sends captured inbound / outbound connections. */
  readonly inboundPort: number;
  readonly outboundPort: number;
  /** `'*'`: every inbound port except `excludeInboundPorts`; a list: only these; empty: none. */
  readonly includeInboundPorts: '*' | readonly number[];
  readonly excludeInboundPorts: readonly number[];
  /** `'*'`: every destination except `excludeOutboundCidrs`; a list: only these; empty: none. */
  readonly includeOutboundCidrs: '*' | readonly string[];
  readonly excludeOutboundCidrs: readonly string[];
  readonly excludeOutboundPorts: readonly number[];
}

export const DEFAULT_CAPTURE_OPTIONS: CaptureOptions = {
  proxyUid: 1337,
  proxyGid: 1337,
  inboundPort: 15006,
  outboundPort: 15001,
  includeInboundPorts: '*',
  excludeInboundPorts: DEFAULT_EXCLUDED_INBOUND_PORTS,
  includeOutboundCidrs: '*',
  excludeOutboundCidrs: [],
  excludeOutboundPorts: [],
};

/** One rule: a chain and the match/target arguments after `-A CHAIN`. */
export interface CaptureRule {
  readonly chain: string;
  readonly args: readonly string[];
}

const RETURN = ['-j', 'RETURN'];

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/**
 * The rules for `options`, in the order they must be appended. The
 * inbound capture port itself is always excluded from inbound capture (a
 * connection to 15006 must not loop), as are the default excluded ports
 * when the caller adds its own.
 */
export function buildCaptureRules(options: CaptureOptions): CaptureRule[] {
  const rules: CaptureRule[] = [];
  const add = (chain: string, ...args: string[]): void => {
    rules.push({ chain, args });
  };
  add('ISTIO_IN_REDIRECT', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(options.inboundPort));
  add('ISTIO_REDIRECT', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(options.outboundPort));

  const inbound = options.includeInboundPorts;
  if (inbound === '*' || inbound.length > 0) {
    add('PREROUTING', '-p', 'tcp', '-j', 'ISTIO_INBOUND');
    if (inbound === '*') {
      for (const port of unique([...options.excludeInboundPorts, options.inboundPort])) {
        add('ISTIO_INBOUND', '-p', 'tcp', '--dport', String(port), ...RETURN);
      }
      add('ISTIO_INBOUND', '-p', 'tcp', '-j', 'ISTIO_IN_REDIRECT');
    } else {
      for (const port of unique(inbound)) {
        add('ISTIO_INBOUND', '-p', 'tcp', '--dport', String(port), '-j', 'ISTIO_IN_REDIRECT');
      }
    }
  }

  add('OUTPUT', '-p', 'tcp', '-j', 'ISTIO_OUTPUT');
  add('ISTIO_OUTPUT', '-o', 'lo', '-s', '127.0.0.6/32', ...RETURN);
  for (const [flag, id] of [
    ['--uid-owner', options.proxyUid],
    ['--gid-owner', options.proxyGid],
  ] as const) {
    add(
      'ISTIO_OUTPUT',
      '-o',
      'lo',
      '!',
      '-d',
      '127.0.0.1/32',
      '-m',
      'owner',
      flag,
      String(id),
      '-j',
      'ISTIO_IN_REDIRECT',
    );
    add('ISTIO_OUTPUT', '-o', 'lo', '-m', 'owner', '!', flag, String(id), ...RETURN);
    add('ISTIO_OUTPUT', '-m', 'owner', flag, String(id), ...RETURN);
  }
  add('ISTIO_OUTPUT', '-d', '127.0.0.1/32', ...RETURN);
  for (const port of unique(options.excludeOutboundPorts)) {
    add('ISTIO_OUTPUT', '-p', 'tcp', '--dport', String(port), ...RETURN);
  }
  for (const cidr of unique(options.excludeOutboundCidrs)) add('ISTIO_OUTPUT', '-d', cidr, ...RETURN);
  const outbound = options.includeOutboundCidrs;
  if (outbound === '*') add('ISTIO_OUTPUT', '-j', 'ISTIO_REDIRECT');
  else for (const cidr of unique(outbound)) add('ISTIO_OUTPUT', '-d', cidr, '-j', 'ISTIO_REDIRECT');
  return rules;
}

/** What an earlier install left in the nat table, read from `iptables-save -t nat` output. */
export interface InstalledCapture {
  /** Capture chains that exist. */
  readonly chains: readonly string[];
  /** Rules in built-in chains that jump to a capture chain, as `-D` arguments (chain first). */
  readonly jumps: readonly (readonly string[])[];
}

/** Finds the capture chains and the jumps into them in `iptables-save -t nat` output. */
export function parseInstalledCapture(saved: string): InstalledCapture {
  const chains: string[] = [];
  const jumps: string[][] = [];
  const capture = new Set<string>(CAPTURE_CHAINS);
  for (const line of saved.split('\n')) {
    const declared = /^:(\S+) /.exec(line);
    if (declared && capture.has(declared[1]!)) chains.push(declared[1]!);
    const words = line.trim().split(/\s+/);
    if (words[0] !== '-A' || capture.has(words[1] ?? '')) continue;
    const target = words.indexOf('-j');
    if (target > 0 && capture.has(words[target + 1] ?? '')) jumps.push(words.slice(1));
  }
  return { chains, jumps };
}

/** Shell-free quoting for restore input: iptables-restore splits on spaces and honours double quotes. */
function quote(arg: string): string {
  return /^[\w./:,!*=+-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\])/g, '\\$1')}"`;
}

function line(op: '-A' | '-D', chain: string, args: readonly string[]): string {
  return [op, chain, ...args].map(quote).join(' ');
}

/**
 * `iptables-restore --noflush` input that removes `installed` (jumps first,
 * then the chains are flushed and deleted) and, unless `rules` is
 * undefined (cleanup only), declares the capture chains and appends `rules`.
 * Declaring a chain in restore input creates it or flushes it, so
 * re-running an install leaves exactly one copy of every rule.
 */
export function renderRestoreInput(
  installed: InstalledCapture,
  rules: readonly CaptureRule[] | undefined,
): string {
  const lines = ['*nat'];
  if (rules) for (const chain of CAPTURE_CHAINS) lines.push(`:${chain} - [0:0]`);
  for (const jump of installed.jumps) lines.push(line('-D', jump[0]!, jump.slice(1)));
  if (!rules) {
    for (const chain of installed.chains) lines.push(`-F ${chain}`);
    for (const chain of installed.chains) lines.push(`-X ${chain}`);
  } else {
    for (const rule of rules) lines.push(line('-A', rule.chain, rule.args));
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}
