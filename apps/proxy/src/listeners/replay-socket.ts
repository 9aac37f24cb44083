/**
 * A Duplex over a socket that first replays bytes already read from it, for
 * a consumer that cannot take the socket itself: node:http2 refuses a TLS
 * socket whose ALPN is not h2 (an HTTP2 codec without h2 negotiated).
 * Everywhere else the proxy hands Node the socket itself, with sniffed bytes
 * `unshift`ed back, so TLS and HTTP/2 run on the native handle.
 * Backpressure is preserved (the socket is paused while the reader is full).
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

export class ReplaySocket extends Duplex {
  private readonly socket: Socket;

  constructor(socket: Socket, prefix: Buffer) {
    super({ allowHalfOpen: true });
    this.socket = socket;
    if (prefix.length > 0) this.push(prefix);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
