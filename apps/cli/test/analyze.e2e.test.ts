/**
 * Runs the built `weft` bin (dist/main.js, built before tests by Nx) as a
 * user would, on directories of Istio YAML.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const fixtures = fileURLToPath(new URL('fixtures', import.meta.url));

function weft(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 15_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('weft analyze', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-analyze-'));
    await cp(join(fixtures, 'mixed'), dir, { recursive: true });
    // Broken YAML is written here rather than committed: the linter checks YAML in the repository.
    await writeFile(
      join(dir, 'zz-broken.yaml'),
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: [oops\n',
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one precise line per problem, in file and line order, and exits 1 on a directory mixing good and bad files', () => {
    const { code, stdout, stderr } = weft('analyze', dir);
    expect(stderr).toBe('');
    expect(stdout.split('\n')).toEqual([
      `Error ${dir}/bad-gateway.yaml:10 Gateway edge/public: spec.servers[0].tls: required for protocol HTTPS`,
      `Warning ${dir}/bad-gateway.yaml:17 Deployment default/shop: not an Istio resource Weft reads (apps/v1 Deployment); skipped`,
      `Error ${dir}/ratings.yaml:19 VirtualService default/ratings: spec.http[0].retries.retryOn: unknown retry policy "flaky"`,
      `Warning ${dir}/ratings.yaml:32 VirtualService default/details: spec.http[0].route[0].destination.subset: subset "v1" of details.default.svc.cluster.local is not defined by any DestinationRule`,
      `Error ${dir}/zz-broken.yaml:5: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      '3 valid objects, 3 errors, 2 warnings',
      '',
    ]);
    expect(code).toBe(1);
  });

  it('exits 0 on a good directory', () => {
    const { code, stdout } = weft('analyze', join(fixtures, 'good'));
    expect(stdout).toBe('2 valid objects, 0 errors, 0 warnings\n');
    expect(code).toBe(0);
  });

  it('runs the same through the installed bin launcher', () => {
    const launcher = fileURLToPath(new URL('../bin/weft.js', import.meta.url));
    const result = spawnSync(process.execPath, [launcher, 'analyze', join(fixtures, 'good')], {
      encoding: 'utf8',
    });
    expect([result.status, result.stdout]).toEqual([0, '2 valid objects, 0 errors, 0 warnings\n']);
  });

  it('exits 0 on the bookinfo example', () => {
    const { code, stdout } = weft('analyze', fileURLToPath(new URL('../../../examples', import.meta.url)));
    expect(stdout).toBe('21 valid objects, 0 errors, 0 warnings\n');
    expect(code).toBe(0);
  });

  it('prints JSON with --json', () => {
    const { code, stdout } = weft('analyze', '--json', join(dir, 'ratings.yaml'));
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ objects: 1, errors: 1, warnings: 1 });
    expect(report.problems[0]).toMatchObject({
      severity: 'error',
      kind: 'VirtualService',
      namespace: 'default',
      name: 'ratings',
      path: 'spec.http[0].retries.retryOn',
      source: { file: join(dir, 'ratings.yaml'), line: 19 },
    });
    expect(code).toBe(1);
  });

  it.each([
    ['no arguments', [], 2, /^Usage: weft <command>/],
    ['an unknown command', ['lint'], 2, /^weft: unknown command "lint"/],
    ['analyze without a path', ['analyze'], 2, /^weft analyze: analyze needs at least one PATH/],
    ['an unknown flag', ['analyze', '--strict', '.'], 2, /^weft analyze: Unknown option '--strict'/],
  ])('rejects %s with exit code 2', (_name, args, expected, message) => {
    const { code, stdout, stderr } = weft(...args);
    expect(code).toBe(expected);
    expect(stderr || stdout).toMatch(message);
  });

  it.each([
    [
      'weft --help',
      ['--help'],
      /^Usage: weft <command> \[options\]\n\nCommands:\n {2}analyze {2}validate Istio YAML/,
    ],
    ['weft analyze --help', ['analyze', '--help'], /^Usage: weft analyze \[--json\] PATH\.\.\./],
  ])('prints help for %s', (_name, args, expected) => {
    const { code, stdout } = weft(...args);
    expect(stdout).toMatch(expected);
    expect(code).toBe(0);
  });

  it('reports a missing path as an error', () => {
    const { code, stdout } = weft('analyze', join(dir, 'nope'));
    expect(stdout).toBe(
      `Error ${join(dir, 'nope')}: cannot read: no such file or directory\n0 valid objects, 1 error, 0 warnings\n`,
    );
    expect(code).toBe(1);
  });
});
