/** startDiscovery refuses to start with a coded error, and leaves nothing running. */

import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { createLogger } from '@weft/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiscoveryOptions, DiscoveryStartError, startDiscovery } from '../../src/index.ts';
import { type ConfigDir, createConfigDir } from './fixtures/mesh-config.ts';

describe('startDiscovery start-up failures', () => {
  let config: ConfigDir;
  let taken: Server;
  let takenPort = 0;

  beforeAll(async () => {
    config = await createConfigDir();
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as AddressInfo).port;
  });

  afterAll(async () => {
    taken?.close();
    await config?.cleanup();
  });

  const quiet = createLogger({ name: 'weft-discovery', level: 'error', write: () => {} });

  it.each<[string, () => DiscoveryOptions, string, RegExp]>([
    [
      'a Kubernetes source without a readable kubeconfig',
      () => ({ source: { kind: 'kubernetes', kubeconfig: `${config.dir}/no-kubeconfig` } }),
      'SOURCE_UNAVAILABLE',
      /cannot load the kubeconfig .*no-kubeconfig/,
    ],
    [
      'a missing config dir',
      () => ({ source: { kind: 'directory', dir: `${config.dir}/missing` } }),
      'SOURCE_START_FAILED',
      /config source failed to start: config directory .*missing/,
    ],
    [
      'an xDS port in use',
      () => ({
        source: { kind: 'directory', dir: config.dir },
        xdsAddr: { host: '127.0.0.1', port: takenPort },
      }),
      'XDS_LISTEN_FAILED',
      /cannot listen for xDS on 127\.0\.0\.1:\d+/,
    ],
    [
      'an HTTP port in use',
      () => ({
        source: { kind: 'directory', dir: config.dir },
        httpAddr: { host: '127.0.0.1', port: takenPort },
      }),
      'HTTP_LISTEN_FAILED',
      /cannot listen for HTTP on 127\.0\.0\.1:\d+/,
    ],
  ])('refuses %s', async (_name, options, code, message) => {
    const error = await startDiscovery({ ...options(), logger: quiet }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DiscoveryStartError);
    expect(error).toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('frees the xDS port it bound when the HTTP port is taken', async () => {
    const xdsPort = await freePort();
    await expect(
      startDiscovery({
        source: { kind: 'directory', dir: config.dir },
        xdsAddr: { host: '127.0.0.1', port: xdsPort },
        httpAddr: { host: '127.0.0.1', port: takenPort },
        logger: quiet,
      }),
    ).rejects.toMatchObject({ code: 'HTTP_LISTEN_FAILED' });
    const server = await startDiscovery({
      source: { kind: 'directory', dir: config.dir },
      xdsAddr: { host: '127.0.0.1', port: xdsPort },
      logger: quiet,
    });
    expect(server.xdsAddress).toBe(`127.0.0.1:${xdsPort}`);
    await server.close();
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
