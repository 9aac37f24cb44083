import net, { type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createOriginalDstReader, loadSockoptBinding, parseSockaddr } from './original-dst.ts';

/** A sockaddr_in / sockaddr_in6 as the kernel writes it (family little-endian on x86/arm, port big-endian). */
function sockaddr(family: number, port: number, address: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(family === 2 ? 16 : 28);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, family, true);
  view.setUint16(2, port, false);
  bytes.set(address, family === 2 ? 4 : 8);
  return bytes;
}

const v6 = (...groups: number[]): number[] => groups.flatMap((g) => [g >> 8, g & 255]);

describe('parseSockaddr', () => {
  it.each([
    { name: 'IPv4', bytes: sockaddr(2, 8080, [198, 18, 1, 2]), expected: { host: '198.18.1.2', port: 8080 } },
    {
      name: 'IPv4 port 65535',
      bytes: sockaddr(2, 65535, [10, 0, 0, 1]),
      expected: { host: '10.0.0.1', port: 65535 },
    },
    {
      name: 'IPv6 with a zero run',
      bytes: sockaddr(10, 9080, v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
      expected: { host: '2001:db8::1', port: 9080 },
    },
    {
      name: 'IPv6 longest zero run wins',
      bytes: sockaddr(10, 443, v6(0x2001, 0, 0, 1, 0, 0, 0, 2)),
      expected: { host: '2001:0:0:1::2', port: 443 },
    },
    {
      name: 'IPv6 loopback',
      bytes: sockaddr(10, 1, v6(0, 0, 0, 0, 0, 0, 0, 1)),
      expected: { host: '::1', port: 1 },
    },
    {
      name: 'IPv4-mapped IPv6',
      bytes: sockaddr(10, 80, v6(0, 0, 0, 0, 0, 0xffff, 0xc612, 0x0102)),
      expected: { host: '::ffff:198.18.1.2', port: 80 },
    },
    {
      name: 'IPv6 without zeros',
      bytes: sockaddr(10, 80, v6(1, 2, 3, 4, 5, 6, 7, 8)),
      expected: { host: '1:2:3:4:5:6:7:8', port: 80 },
    },
  ])('decodes $name', ({ bytes, expected }) => {
    expect(parseSockaddr(bytes, bytes.length)).toEqual(expected);
  });

  it.each([
    {
      name: 'unknown family',
      bytes: sockaddr(2, 80, [1, 2, 3, 4]).map((b, i) => (i === 0 ? 1 : b)),
      length: 16,
    },
    { name: 'too short', bytes: sockaddr(2, 80, [1, 2, 3, 4]), length: 6 },
    { name: 'IPv6 cut short', bytes: sockaddr(10, 80, v6(0, 0, 0, 0, 0, 0, 0, 1)), length: 16 },
  ])('rejects $name', ({ bytes, length }) => {
    expect(parseSockaddr(bytes, length)).toBeUndefined();
  });
});

/** Accepts one loopback connection and resolves with the server side socket. */
async function acceptedSocket(): Promise<{ socket: Socket; close: () => void }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  client.on('error', () => {});
  const socket = await accepted;
  return {
    socket,
    close: () => {
      client.destroy();
      socket.destroy();
      server.close();
    },
  };
}

describe('createOriginalDstReader', () => {
  it('falls back to the local address for a connection that was not redirected (getsockopt ENOENT)', async () => {
    const loaded = await loadSockoptBinding();
    expect(loaded.ok, loaded.ok ? '' : loaded.reason).toBe(process.platform === 'linux');
    const { socket, close } = await acceptedSocket();
    try {
      const read = createOriginalDstReader(loaded.ok ? loaded.binding : undefined);
      expect(read(socket)).toEqual({ host: '127.0.0.1', port: socket.localPort, source: 'local' });
    } finally {
      close();
    }
  });

  it('returns what conntrack reports when getsockopt succeeds', async () => {
    const reported = sockaddr(2, 3306, [10, 96, 0, 20]);
    const calls: Array<{ level: number; name: number }> = [];
    const read = createOriginalDstReader({
      getsockopt: (_fd, level, name, value, length) => {
        calls.push({ level, name });
        value.set(reported);
        expect(length[0]).toBe(28);
        length[0] = 16;
        return 0;
      },
      errno: () => 0,
    });
    const { socket, close } = await acceptedSocket();
    try {
      expect(read(socket)).toEqual({ host: '10.96.0.20', port: 3306, source: 'conntrack' });
      expect(calls).toEqual([{ level: 0, name: 80 }]);
    } finally {
      close();
    }
  });
});
