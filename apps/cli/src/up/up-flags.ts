/** `weft up`'s flags, parsed without throwing: problems name the flag. */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '@weft/config';

export const UP_USAGE = `Usage: weft up [DIR] [--gateway-port 8080] [--exit-after DURATION] [--json]
               [--state-dir DIR] [--app FILE] [--plaintext] [--trace-console]

Runs the whole mesh on this machine: weft-ca, weft-discovery on DIR (default
examples/bookinfo), each WorkloadEntry's app behind its own weft-proxy on its
own loopback address, and an ingress gateway on --gateway-port. Ctrl-C stops
everything.

Options:
  --gateway-port PORT    ingress gateway port on 127.0.0.1 (default 8080)
  --exit-after DURATION  drive traffic through the gateway for DURATION (e.g. 20s), print
                         a summary, stop; exit 0 only if the mesh served correctly
  --json                 with --exit-after: the summary as JSON on stdout (the screen goes to stderr)
  --state-dir DIR        CA state, tokens and logs (default a new temporary directory)
  --app FILE             the demo app run for each workload (default DIR/app/main.ts)
  --trace-console        every proxy prints its sampled spans (one per request) to its log
  --plaintext            no workload identities: leave out PeerAuthentication, AuthorizationPolicy
                         and RequestAuthentication, run the mesh plaintext (what weft up does
                         anyway when weft-proxy cannot get certificates)
  -h, --help             show this help
`;

export interface UpFlags {
  readonly configDir: string;
  readonly gatewayPort: number;
  readonly exitAfterMs: number | undefined;
  readonly json: boolean;
  readonly stateDir: string | undefined;
  readonly app: string;
  readonly plaintext: boolean;
  readonly traceConsole: boolean;
}

export type ParsedUpFlags =
  | { readonly kind: 'help' }
  | { readonly kind: 'ok'; readonly flags: UpFlags }
  | { readonly kind: 'error'; readonly problems: readonly string[] };

/** Parses the arguments after `up`. */
export function parseUpFlags(args: readonly string[]): ParsedUpFlags {
  const parsed = tryParse(args);
  if (parsed instanceof Error) return { kind: 'error', problems: [parsed.message] };
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  const problems: string[] = [];
  if (positionals.length > 1) problems.push(`expected at most one DIR, got ${positionals.length}`);
  const configDir = positionals[0] ?? 'examples/bookinfo';
  const gatewayPort = Number(values['gateway-port']);
  if (!Number.isInteger(gatewayPort) || gatewayPort < 1 || gatewayPort > 65535)
    problems.push(`--gateway-port: expected 1..65535, got ${JSON.stringify(values['gateway-port'])}`);
  let exitAfterMs: number | undefined;
  if (values['exit-after'] !== undefined) {
    exitAfterMs = parseDuration(values['exit-after']);
    if (exitAfterMs === undefined || exitAfterMs <= 0)
      problems.push(
        `--exit-after: expected a duration such as 20s, got ${JSON.stringify(values['exit-after'])}`,
      );
  }
  if (values.json && exitAfterMs === undefined) problems.push('--json: only with --exit-after');
  if (problems.length > 0) return { kind: 'error', problems };
  return {
    kind: 'ok',
    flags: {
      configDir,
      gatewayPort,
      exitAfterMs,
      json: values.json === true,
      stateDir: values['state-dir'],
      app: values.app ?? join(configDir, 'app', 'main.ts'),
      plaintext: values.plaintext === true,
      traceConsole: values['trace-console'] === true,
    },
  };
}

function tryParse(args: readonly string[]) {
  try {
    return parseArgs({ args: [...args], allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    return error as Error;
  }
}

const OPTIONS = {
  'gateway-port': { type: 'string', default: '8080' },
  'exit-after': { type: 'string' },
  json: { type: 'boolean', default: false },
  'state-dir': { type: 'string' },
  app: { type: 'string' },
  plaintext: { type: 'boolean', default: false },
  'trace-console': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;
