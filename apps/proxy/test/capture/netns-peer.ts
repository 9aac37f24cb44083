/**
 * The processes netns.test.ts runs inside its network namespaces (through
 * `ip netns exec`), one role per invocation. Long-running roles print one
 * JSON line `{"ready":true,...}` once listening; one-shot roles print their
 * result as one JSON line and exit.
 *
 *   control-plane CONFIG_FILE            the e2e control plane (harness) on 127.0.0.1:0 serving
 *                                        CONFIG_FILE's resources to the harness NODE_ID
 *   http-backend HOST PORT NAME          answers JSON {backend, remote, headers}
 *   tcp-echo HOST PORT NAME              answers each connection's first chunk with NAME|REMOTE|chunk
 *   http-get URL HOST                    one request; prints {status, headers, body}
 *   tcp-send HOST PORT MESSAGE           prints {reply}
 *   original-dst-probe PORT CALLS        accepts one connection on 0.0.0.0:PORT and prints what
 *                                        SO_ORIGINAL_DST says, with the cost per call in ns
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { createOriginalDstReader, loadSockoptBinding } from '../../src/capture/original-dst.ts';
import { type ConfigSet, startControlPlane } from '../support/harness.ts';

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

async function controlPlane(configFile: string): Promise<void> {
  const plane = await startControlPlane();
  plane.push(JSON.parse(readFileSync(configFile, 'utf8')) as ConfigSet);
  print({ ready: true, address: plane.address });
}

async function httpBackend(host: string, port: number, name: string): Promise<void> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ backend: name, remote: req.socket.remoteAddress, headers: req.headers }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  print({ ready: true, port: (server.address() as AddressInfo).port });
}

async function tcpEcho(host: string, port: number, name: string): Promise<void> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk) => socket.end(`${name}|${socket.remoteAddress}|${chunk.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  print({ ready: true, port: (server.address() as AddressInfo).port });
}

async function httpGet(url: string, host: string): Promise<void> {
  const result = await new Promise<unknown>((resolve, reject) => {
    const req = http.get(url, { headers: { host }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
  print(result);
}

async function tcpSend(host: string, port: number, message: string): Promise<void> {
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = net.connect({ host, port }, () => socket.write(message));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.setTimeout(5000, () => socket.destroy(new Error('no reply within 5 s')));
  });
  print({ reply });
}

async function originalDstProbe(port: number, calls: number): Promise<void> {
  const loaded = await loadSockoptBinding();
  if (!loaded.ok) throw new Error(loaded.reason);
  const read = createOriginalDstReader(loaded.binding);
  const server = net.createServer((socket) => {
    const first = read(socket);
    for (let i = 0; i < 1000; i++) read(socket); // warm-up (JIT, koffi call path)
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) read(socket);
    const nsPerCall = Number(process.hrtime.bigint() - start) / calls;
    print({ ...first, local: { host: socket.localAddress, port: socket.localPort }, nsPerCall });
    socket.destroy();
    server.close();
  });
  await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
  print({ ready: true, port });
}

async function main(): Promise<void> {
  const [role, a = '', b = '', c = ''] = process.argv.slice(2);
  if (role === 'control-plane') return controlPlane(a);
  if (role === 'http-backend') return httpBackend(a, Number(b), c);
  if (role === 'tcp-echo') return tcpEcho(a, Number(b), c);
  if (role === 'http-get') return httpGet(a, b);
  if (role === 'tcp-send') return tcpSend(a, Number(b), c);
  if (role === 'original-dst-probe') return originalDstProbe(Number(a), Number(b));
  throw new Error(`unknown role ${JSON.stringify(role)}`);
}

main().catch((error: unknown) => {
  print({ error: (error as Error).message });
  process.exit(1);
});
