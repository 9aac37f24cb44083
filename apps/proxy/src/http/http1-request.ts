/**
 * The request side of one downstream HTTP/1.x exchange: the head's fields
 * and the body as a Readable (node's IncomingMessage shape, so it satisfies
 * the `DownstreamRequest` contract). The connection pushes body bytes in;
 * reading asks it for more (resume the socket, send 100 Continue). A
 * bodiless request allocates no stream state beyond the Readable itself and
 * ends on first read.
 */
import { type Duplex, Readable } from 'node:stream';
import type { RequestHead } from './http1-parser.ts';

/** The downstream socket as the request exposes it (net.Socket or TLSSocket). */
export type Socket = Duplex & {
  readonly remoteAddress?: string;
  readonly encrypted?: boolean;
  setNoDelay?(noDelay?: boolean): unknown;
};

/** Where a request's body comes from: its connection. */
export interface BodySource {
  readonly socket: Socket;
  /** The consumer wants more body bytes. */
  onBodyRead(req: Http1Request): void;
}

/** The request side of one exchange: head fields and a body stream (node's IncomingMessage shape). */
export class Http1Request extends Readable {
  readonly method: string;
  readonly url: string;
  readonly headers: RequestHead['headers'];
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: number;
  readonly socket: Socket;
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
  /** The whole body was received (always true for bodiless requests). */
  bodyComplete: boolean;
  continueSent = false;
  /** Body bytes received so far (after chunked decoding): telemetry's request size. */
  bytesRead = 0;
  private readonly connection: BodySource;
  private readonly hasBody: boolean;
  private ended = false;

  constructor(connection: BodySource, head: RequestHead) {
    super();
    this.connection = connection;
    this.socket = connection.socket;
    this.method = head.method;
    this.url = head.url;
    this.headers = head.headers;
    this.httpVersionMinor = head.versionMinor;
    this.keepAlive = head.keepAlive;
    this.expectContinue = head.expectContinue;
    this.hasBody = head.framing.kind !== 'none';
    this.bodyComplete = !this.hasBody;
  }

  /** Marks the body complete and ends the stream (once). */
  endBody(): void {
    this.bodyComplete = true;
    if (this.ended) return;
    this.ended = true;
    this.push(null);
  }

  override _read(): void {
    // A bodiless request ends on first read: no stream work for requests nobody reads.
    if (this.hasBody) this.connection.onBodyRead(this);
    else this.endBody();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // As node's IncomingMessage: an abort is an 'error' only for those who listen for one.
    callback(this.listenerCount('error') > 0 ? error : null);
  }
}
