/**
 * The built binary (`dist/main.js`, as `npx weft-discovery` runs it) on a
 * config dir holding one bad file: it reports the bad object with file:line
 * and field path on /debug/config_problems, is ready, serves the good config
 * over xDS, documents every flag in --help and exits 0 on SIGTERM.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createAdsClient, LISTENER_TYPE_URL } from '@weft/xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAGS } from '../../src/cli-flags.ts';
import {
  type ConfigDir,
  createConfigDir,
  ECHO_HOST,
  ECHO_PORT,
  echoServiceEntry,
  waitFor,
} from './fixtures/mesh-config.ts';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** A VirtualService whose second route has a negative weight (line 13 of the file). */
const BAD_VIRTUAL_SERVICE = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: echo-bad
  namespace: default
spec:
  hosts:
    - echo.default.svc.cluster.local
  http:
    - route:
        - destination:
            host: echo.default.svc.cluster.local
          weight: -5
`;

type LogLine = Record<string, unknown> & { msg: string };

describe('the weft-discovery binary', () => {
  let config: ConfigDir;
  let child: ChildProcess;
  const log: LogLine[] = [];
  let http = '';
  let xds = '';

  beforeAll(async () => {
    config = await createConfigDir();
    await config.write('echo.yaml', echoServiceEntry());
    await config.writeText('bad-routing.yaml', BAD_VIRTUAL_SERVICE);
    child = spawn(
      process.execPath,
      [MAIN, '--config-dir', config.dir, '--xds-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    createInterface({ input: child.stderr! }).on('line', (line) => log.push(JSON.parse(line) as LogLine));
    await waitFor('the ready line', () => log.some((l) => l.msg === 'ready'), 10_000);
    const ready = log.find((l) => l.msg === 'ready')!;
    http = String(ready.httpAddress);
    xds = String(ready.xdsAddress);
  });

  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    await config?.cleanup();
  });

  it('is ready and reports the bad object with file:line and field path', async () => {
    const ready = await fetch(`http://${http}/ready`);
    expect(ready.status).toBe(200);
    const body = (await (await fetch(`http://${http}/debug/config_problems`)).json()) as {
      total: number;
      sources: { problems: { text: string; path: string; source?: { file: string; line: number } }[] }[];
    };
    expect(body.total).toBe(1);
    const [problem] = body.sources[0]!.problems;
    expect(problem).toMatchObject({
      path: 'spec.http[0].route[0].weight',
      source: { file: join(config.dir, 'bad-routing.yaml'), line: 13 },
    });
    expect(problem?.text).toMatch(
      /bad-routing\.yaml:13 VirtualService default\/echo-bad: spec\.http\[0\]\.route\[0\]\.weight: /,
    );
    expect(
      log.some((l) => l.msg === 'config problem' && String(l.problem).includes('bad-routing.yaml:13')),
    ).toBe(true);
  });

  it('serves the good config over xDS', async () => {
    const client = createAdsClient({
      address: xds,
      node: {
        id: 'sidecar~127.0.0.1~probe.default~default.svc.cluster.local',
        metadata: { GENERATOR: 'grpc' },
      },
    });
    client.subscribe(LISTENER_TYPE_URL);
    client.start();
    try {
      await waitFor('listeners', () => client.resources(LISTENER_TYPE_URL).size > 0);
      expect([...client.resources(LISTENER_TYPE_URL).keys()]).toEqual([`${ECHO_HOST}:${ECHO_PORT}`]);
    } finally {
      client.close();
    }
  });

  it('exits 0 on SIGTERM', async () => {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(log.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
  });

  it('documents every flag in --help', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [MAIN, '--help']);
    for (const name of [
      'config-dir',
      'xds-addr',
      'http-addr',
      'trust-domain',
      'kube',
      'debounce',
      'log-level',
    ]) {
      expect(FLAGS).toHaveProperty(name);
    }
    for (const [name, spec] of Object.entries(FLAGS)) {
      expect(stdout).toContain(`--${name}`);
      expect(stdout).toContain(spec.help);
    }
  });

  it.each([
    [
      '--kube without a readable kubeconfig',
      ['--kube', '--kubeconfig', '/nonexistent/kubeconfig'],
      /cannot load the kubeconfig \/nonexistent\/kubeconfig/,
    ],
    [
      'a cluster flag without --kube',
      ['--config-dir', '/tmp', '--proxy-image', 'x'],
      /--proxy-image needs --kube/,
    ],
    ['an unknown flag', ['--config-dir', '/tmp', '--nope'], /Unknown option '--nope'/],
    [
      'a bad address',
      ['--config-dir', '/tmp', '--xds-addr', 'localhost'],
      /--xds-addr: "localhost" is not HOST:PORT/,
    ],
  ])('exits 2 with a clear message for %s', async (_name, args, message) => {
    const result = await promisify(execFile)(process.execPath, [MAIN, ...args]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
