/**
 * `weft analyze PATH...`: validates Istio YAML files and directories and
 * prints one line per problem, like `istioctl analyze` for local files.
 */
import { parseArgs } from 'node:util';
import { formatProblem, loadConfigPaths, type Problem } from '@weft/config';
import { type Command, type CommandIo, EXIT_FAILURE, EXIT_OK, UsageError } from './command.ts';

const usage = `Usage: weft analyze [--json] PATH...

Validates Istio configuration (VirtualService, DestinationRule, Gateway,
ServiceEntry, WorkloadEntry, Sidecar, PeerAuthentication, AuthorizationPolicy,
RequestAuthentication) in YAML files and directories (*.yaml, *.yml, recursive).

Prints one line per problem:
  file:line Kind namespace/name: field.path: reason
then a summary line. Exits 1 when there is any error, 0 when there are only
warnings or nothing, 2 on usage errors.

Options:
  --json      print {"problems": [...], "objects", "errors", "warnings"} instead
  -h, --help  show this help
`;

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'validate Istio YAML files and directories',
  usage,
  async run(args: readonly string[], io: CommandIo): Promise<number> {
    let parsed: ReturnType<typeof parseAnalyzeArgs>;
    try {
      parsed = parseAnalyzeArgs(args);
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    if (parsed.help) {
      io.stdout(usage);
      return EXIT_OK;
    }
    if (parsed.paths.length === 0) throw new UsageError('analyze needs at least one PATH');
    const loaded = await loadConfigPaths(parsed.paths);
    const objects = loaded.objects;
    const problems = sortProblems(loaded.problems);
    const errors = problems.filter((p) => p.severity === 'error').length;
    const warnings = problems.length - errors;
    if (parsed.json) {
      io.stdout(
        `${JSON.stringify({ problems: problems.map(withLine), objects: objects.length, errors, warnings }, null, 2)}\n`,
      );
    } else {
      for (const problem of problems)
        io.stdout(`${problem.severity === 'error' ? 'Error' : 'Warning'} ${formatProblem(problem)}\n`);
      io.stdout(
        `${plural(objects.length, 'valid object')}, ${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`,
      );
    }
    return errors > 0 ? EXIT_FAILURE : EXIT_OK;
  },
};

/**
 * Problems in reading order: unreadable paths first, then by file and line,
 * so the cross-object problems sit beside the others of their file.
 * The sort is stable: problems on one line keep the loader's order.
 */
function sortProblems(problems: readonly Problem[]): Problem[] {
  const files = new Map<string, number>();
  for (const p of problems) if (p.source && !files.has(p.source.file)) files.set(p.source.file, files.size);
  const rank = (p: Problem): [number, number] =>
    p.source ? [(files.get(p.source.file) ?? 0) + 1, p.source.line] : [0, 0];
  return [...problems].sort((a, b) => {
    const [fa, la] = rank(a);
    const [fb, lb] = rank(b);
    return fa - fb || la - lb;
  });
}

function parseAnalyzeArgs(args: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  return { json: values.json === true, help: values.help === true, paths: positionals };
}

/** The problem plus its formatted line, for `--json` consumers that only want text. */
function withLine(problem: Problem): Problem & { line: string } {
  return { ...problem, line: formatProblem(problem) };
}
