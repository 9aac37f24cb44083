/**
 * The V8 heap settings weft-proxy runs with, and whether the process must
 * re-execute itself to get them (V8 reads heap sizes when the isolate is
 * created; `v8.setFlagsFromString` cannot change them later).
 *
 * `--max-semi-space-size=8` (MiB): V8's default lets each young-generation
 * semi-space grow to 16 MiB under a proxy's allocation rate, which commits
 * about 64 MiB of new space; capped at 8 MiB the same load runs with about
 * 40 MiB less RSS (measured with test/runtime/runtime-ab.ts and
 * test/security/sidecar-rss.ts), at the price of twice as many scavenges,
 * each about 1 ms.
 */

/** Flags weft-proxy wants, by V8 flag name. */
export const V8_FLAGS: readonly { readonly name: string; readonly value: string }[] = [
  { name: '--max-semi-space-size', value: '8' },
];

/** Flag names set in `execArgv` or NODE_OPTIONS (`--name=value` or `--name value`; `_` and `-` alike). */
function namesSet(execArgv: readonly string[], nodeOptions: string | undefined): Set<string> {
  const words = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].filter((w) => w.startsWith('--'));
  return new Set(words.map((w) => w.split('=')[0]!.replaceAll('_', '-')));
}

/**
 * The node arguments (execArgv, then script and its arguments) to
 * re-execute this process with, when some of V8_FLAGS are missing and the
 * command will serve traffic; undefined when the process should run as is.
 * Flags the user set (command line or NODE_OPTIONS) are never overridden.
 * Subcommands that do not serve (`iptables`, `--help`) are not relaunched.
 */
export function relaunchArgs(
  argv: readonly string[],
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] | undefined {
  const args = argv.slice(2);
  if (args[0] === 'iptables' || args.includes('--help') || args.includes('-h')) return undefined;
  const set = namesSet(execArgv, nodeOptions);
  const missing = V8_FLAGS.filter((flag) => !set.has(flag.name));
  if (missing.length === 0) return undefined;
  return [...missing.map((flag) => `${flag.name}=${flag.value}`), ...execArgv, ...argv.slice(1)];
}
