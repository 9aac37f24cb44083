import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Http1Handler } from './http1-connection.ts';
import type { Http1Request } from './http1-request.ts';
import { Http1Error, type Http1Response } from './http1-response.ts';
import { Http1Server } from './http1-server.ts';

interface Running {
  readonly port: number;
  /** Socket writes made by the codec per accepted connection, in accept order. */
  readonly writes: number[];
  readonly sockets: net.Socket[];
  readonly server: Http1Server;
  close(): Promise<void>;
}

const running: Running[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) await r.close();
});

/** An Http1Server on a loopback listener; counts the codec's socket writes. */
async function serve(
  onRequest: (req: Http1Request, res: Http1Response) => void,
  settings: { idleTimeoutMs?: number; headersTimeoutMs?: number; requestTimeoutMs?: number } = {},
): Promise<Running> {
  const handler: Http1Handler = { onRequest, onUpgrade: (_req, socket) => socket.destroy() };
  const server = new Http1Server(
    {
      serverName: 'test',
      maxHeadBytes: 8192,
      maxHeaders: 100,
      idleTimeoutMs: settings.idleTimeoutMs ?? 0,
      headersTimeoutMs: settings.headersTimeoutMs ?? 60_000,
      requestTimeoutMs: settings.requestTimeoutMs ?? 0,
      now: Date.now,
    },
    handler,
    { setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (t) => clearTimeout(t) },
  );
  const writes: number[] = [];
  const sockets: net.Socket[] = [];
  const listener = net.createServer({ allowHalfOpen: true }, (socket) => {
    const index = writes.push(0) - 1;
    sockets.push(socket);
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      writes[index]!++;
      return write(...args);
    }) as typeof socket.write;
    server.serve(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const result: Running = {
    port: (listener.address() as net.AddressInfo).port,
    writes,
    sockets,
    server,
    close: async () => {
      server.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
  running.push(result);
  return result;
}

/** Sends `bytes` and collects the answer until `done` or the close (3 s bound). */
function exchange(port: number, bytes: string | Buffer, done: (text: string) => boolean = () => false) {
  return new Promise<{ text: string; closed: boolean }>((resolve, reject) => {
    let text = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (done(text)) {
        socket.destroy();
        resolve({ text, closed: false });
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, closed: true }));
    socket.setTimeout(3000, () => socket.destroy());
  });
}

const GET = 'GET /x HTTP/1.1\r\nHost: test\r\n\r\n';

describe('Http1Server', () => {
  it.each([
    {
      name: 'known length',
      respond: (res: Http1Response) => {
        res.writeHead(200, { 'content-length': '5' });
        res.write(Buffer.from('hello'));
        res.end();
      },
      body: 'hello',
    },
    {
      name: 'chunked, ended with the data',
      respond: (res: Http1Response) => {
        res.writeHead(200, {});
        res.end(Buffer.from('hello'));
      },
      body: '5\r\nhello\r\n0\r\n\r\n',
    },
    {
      name: 'no body',
      respond: (res: Http1Response) => {
        res.writeHead(204, {});
        res.end();
      },
      body: '',
    },
  ])('writes head and body in one socket write: $name', async ({ respond, body }) => {
    const r = await serve((_req, res) => respond(res));
    const { text } = await exchange(r.port, GET, (t) => t.endsWith(body) && t.includes('\r\n\r\n'));
    expect(text.slice(text.indexOf('\r\n\r\n') + 4)).toBe(body);
    expect(r.writes).toEqual([1]);
  });

  it('ends a chunked body with its trailers', async () => {
    const r = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(Buffer.from('ab'));
      res.addTrailers({ 'grpc-status': '0' });
      res.end();
    });
    const { text } = await exchange(r.port, GET, (t) => t.endsWith('\r\n\r\n') && t.includes('grpc'));
    expect(text.slice(text.indexOf('\r\n\r\n') + 4)).toBe('2\r\nab\r\n0\r\ngrpc-status: 0\r\n\r\n');
  });

  it.each([
    { name: 'a CRLF in a value', headers: { 'x-a': 'ok\r\nset-cookie: evil=1' } },
    { name: 'a LF in a value', headers: { 'x-a': 'ok\nx: y' } },
    { name: 'a space in a name', headers: { 'x a': 'v' } },
    { name: 'a character above latin1', headers: { 'x-a': 'snow ☃' } },
  ])('refuses to write a response header with $name (no response splitting)', async ({ headers }) => {
    let error: unknown;
    const r = await serve((_req, res) => {
      try {
        res.writeHead(200, headers);
      } catch (e) {
        error = e;
        res.destroy();
      }
    });
    const { text } = await exchange(r.port, GET);
    expect(error).toBeInstanceOf(Http1Error);
    expect((error as Http1Error).code).toBe('INVALID_HEADER');
    expect(text).toBe('');
  });

  it('parses heads and pipelined requests that arrive one byte per read', async () => {
    const r = await serve((req, res) => {
      res.writeHead(200, { 'content-length': String(req.url.length) });
      res.end(Buffer.from(req.url));
    });
    const bytes = Buffer.from(`GET /one HTTP/1.1\r\nHost: test\r\n\r\n${GET.replace('/x', '/two')}`);
    const text = await new Promise<string>((resolve, reject) => {
      let answer = '';
      const socket = net.connect(r.port, '127.0.0.1', async () => {
        socket.setNoDelay(true);
        for (const byte of bytes) {
          socket.write(Buffer.from([byte]));
          await new Promise((next) => setImmediate(next));
        }
      });
      socket.on('data', (c: Buffer) => {
        answer += c.toString('latin1');
        if (answer.endsWith('/two')) {
          socket.destroy();
          resolve(answer);
        }
      });
      socket.on('error', reject);
    });
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(text.indexOf('/one')).toBeLessThan(text.indexOf('/two'));
  });

  it('answers 408 and closes when a request head does not complete in time (slowloris)', async () => {
    const r = await serve(() => {}, { headersTimeoutMs: 100 });
    const started = Date.now();
    const { text, closed } = await exchange(r.port, 'GET /slow HTTP/1.1\r\nHost: test\r\nX-A: 1\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('answers 408 and closes when a request body does not complete within the request timeout', async () => {
    let handed = 0;
    const r = await serve(
      (req) => {
        handed++;
        req.resume();
      },
      { requestTimeoutMs: 100 },
    );
    const started = Date.now();
    const { text, closed } = await exchange(
      r.port,
      'POST /slow HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc',
    );
    expect(handed).toBe(1);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('pauses the socket while nobody reads the body, and delivers all of it once read', async () => {
    const size = 4 * 1024 * 1024;
    let request: Http1Request | undefined;
    const r = await serve((req) => {
      request = req;
    });
    const client = net.connect(r.port, '127.0.0.1');
    client.on('error', () => {});
    client.write(`POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: ${size}\r\n\r\n`);
    client.write(Buffer.alloc(size, 7));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(request).toBeDefined();
    const readWhilePaused = r.sockets[0]!.bytesRead;
    expect(readWhilePaused).toBeLessThan(size / 2);
    let received = 0;
    const req = request!;
    await new Promise<void>((resolve) => {
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      req.on('end', () => resolve());
    });
    expect(received).toBe(size);
    client.destroy();
  });

  it('sends 100 Continue only when the body is read, and closes if it answers first', async () => {
    const r = await serve((req, res) => {
      if (req.url === '/read') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          res.writeHead(200, { 'content-length': '4' });
          res.end(Buffer.concat(chunks));
        });
      } else {
        res.writeHead(403, { 'content-length': '0' });
        res.end();
      }
    });
    const expect100 = (path: string) =>
      `POST ${path} HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n`;
    const read = await new Promise<string>((resolve) => {
      let text = '';
      const socket = net.connect(r.port, '127.0.0.1', () => socket.write(expect100('/read')));
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        if (text === 'HTTP/1.1 100 Continue\r\n\r\n') socket.write('ping');
        if (text.endsWith('ping')) {
          socket.destroy();
          resolve(text);
        }
      });
    });
    expect(read.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK')).toBe(true);
    const refused = await exchange(r.port, expect100('/refuse'));
    expect(refused.text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(refused.text).toContain('connection: close');
    expect(refused.closed).toBe(true);
  });

  it('after drain, answers the next request with connection: close and closes', async () => {
    const r = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '2' });
      res.end(Buffer.from('ok'));
    });
    const client = net.connect(r.port, '127.0.0.1');
    let text = '';
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    client.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    client.write(GET);
    await new Promise<void>((resolve) => {
      const poll = () => (text.endsWith('ok') ? resolve() : setTimeout(poll, 5));
      poll();
    });
    expect(text).not.toContain('connection: close');
    r.server.drain();
    text = '';
    client.write(GET);
    await closed;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toContain('connection: close');
  });

  it('closes an idle keep-alive connection after the idle timeout', async () => {
    const r = await serve(
      (_req, res) => {
        res.writeHead(200, { 'content-length': '0' });
        res.end();
      },
      { idleTimeoutMs: 100 },
    );
    const started = Date.now();
    const { text, closed } = await exchange(r.port, GET);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });
});
