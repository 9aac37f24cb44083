/**
 * Starting and stopping: a taken port is a clear start error that leaves
 * nothing running; close is safe to repeat.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaStartError } from '../src/signing/ca-errors.ts';
import { startCa } from '../src/start-ca.ts';
import { caOptions, useTempDir } from './ca-harness.ts';

const dir = useTempDir();
const quiet = {
  logger: {
    debug() {},
    info() {},
    warn() {},
    error() {},
    child() {
      return quiet.logger;
    },
  },
};

describe('startCa', () => {
  it.each([
    { name: 'the HTTP address', field: 'httpAddr' as const },
    { name: 'the gRPC address', field: 'grpcAddr' as const },
  ])('fails with CaStartError listen when $name is taken', async ({ field }) => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as AddressInfo).port;
    try {
      const options = caOptions(join(dir, `taken-${field}`), { [field]: { host: '127.0.0.1', port } });
      const error = await startCa(options, quiet).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CaStartError);
      expect(error).toMatchObject({ code: 'listen', message: `cannot listen on 127.0.0.1:${port}` });
    } finally {
      blocker.close();
    }
  });

  it('closes idempotently and stops answering', async () => {
    const ca = await startCa(caOptions(join(dir, 'close')), quiet);
    expect((await fetch(`${ca.httpUrl}/ready`)).status).toBe(200);
    await Promise.all([ca.close(), ca.close()]);
    await ca.close();
    await expect(fetch(`${ca.httpUrl}/ready`)).rejects.toThrow();
  });
});
