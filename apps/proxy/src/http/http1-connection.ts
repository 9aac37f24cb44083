/**
 * One downstream HTTP/1.x connection on a raw socket (net.Socket, or the
 * TLSSocket a listener terminated): request heads parsed by the strict
 * parser (http1-parser.ts), bodies decoded into a Readable with
 * backpressure (the socket pauses while the consumer is full), responses
 * written by Http1Response (head and first bytes in one write).
 *
 * Ordering: requests are served one at a time. Pipelined requests wait in
 * the connection's buffer until the response before them has ended (so
 * responses go out in request order), and their bytes are never parsed as
 * anything but the next request head: a body is consumed exactly as its
 * framing says, and when a response ends before its request body was read
 * to the end, the connection closes instead of guessing where the next
 * request starts.
 *
 * Errors in a request head are answered (400, 408, 417, 431, 501, 505)
 * and the connection closes; nothing here throws into the event loop.
 * Deadlines (idle between requests, request head) are checked by the
 * owning Http1Server's sweep, not per-request timers.
 */
import type { Duplex } from 'node:stream';
import { ChunkedDecoder } from './http1-chunked-decoder.ts';
import {
  findHeadEnd,
  type HeadLimits,
  parseRequestHead,
  type RequestHead,
  rawHeaderPairs,
  skipLeadingEmptyLines,
} from './http1-parser.ts';
import { type BodySource, Http1Request, type Socket } from './http1-request.ts';
import { Http1Error, Http1Response, type ResponseConnection } from './http1-response.ts';

/** A request whose connection the upgrade path takes over (WebSocket). */
export interface UpgradeRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: RequestHead['headers'];
  /** Field lines as received: [name, value, name, value, ...]. */
  readonly rawHeaders: readonly string[];
}

/** What a connection hands its requests to. */
export interface Http1Handler {
  onRequest(req: Http1Request, res: Http1Response): void;
  /** Takes over the socket; `head` holds bytes received after the request head. */
  onUpgrade(req: UpgradeRequest, socket: Duplex, head: Buffer): void;
}

/** Settings shared by the connections of one connection manager. */
export interface Http1Settings extends HeadLimits {
  readonly serverName: string;
  /** Close a connection with no request in progress after this long; 0 never. */
  readonly idleTimeoutMs: number;
  /** Time allowed for a request head once its first byte arrived (408 after); 0 never. */
  readonly headersTimeoutMs: number;
  /**
   * Time allowed for a request's body once its head arrived (Envoy's
   * `request_timeout`): 408 if no response has started by then; 0 never.
   */
  readonly requestTimeoutMs: number;
  now(): number;
}

/** The owner of a connection (Http1Server): settings, handler, and bookkeeping. */
export interface Http1Owner {
  readonly settings: Http1Settings;
  readonly handler: Http1Handler;
  forget(connection: Http1Connection): void;
}

const EMPTY = Buffer.alloc(0);
const DEADLINE_NONE = 0;
const DEADLINE_IDLE = 1;
const DEADLINE_HEAD = 2;
const DEADLINE_CLOSING = 3;
const DEADLINE_REQUEST = 4;
/** How long a closing connection may take to flush and see the peer's FIN before it is destroyed. */
const CLOSE_GRACE_MS = 5000;

export class Http1Connection implements ResponseConnection, BodySource {
  readonly socket: Socket;
  /** When the sweep must act (ms since the epoch), and how. */
  deadline = Number.POSITIVE_INFINITY;
  private deadlineKind = DEADLINE_NONE;
  private readonly owner: Http1Owner;
  private readonly settings: Http1Settings;
  /** Received bytes not consumed yet (an incomplete head, or pipelined requests), in order. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The last (up to 3) pending bytes: where a head terminator split across reads may start. */
  private pendingTail: Buffer = EMPTY;
  /** `pending` holds the start of a request head whose end has not arrived. */
  private headWaiting = false;
  private input: 'head' | 'length' | 'chunked' | 'closed' = 'head';
  private remaining = 0;
  private decoder: ChunkedDecoder | undefined;
  private currentReq: Http1Request | undefined;
  private currentRes: Http1Response | undefined;
  private handed = false;
  /** The current request has not been handed to the handler yet. */
  private dispatching = false;
  private pausedForBody = false;
  private pausedForPipeline = false;
  private closing = false;
  private peerEnded = false;
  private draining = false;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onEnd = (): void => this.peerEnd();
  private readonly onClose = (): void => this.closed();
  private readonly onChunk = (data: Buffer): void => this.pushBody(data);

  constructor(owner: Http1Owner, socket: Duplex) {
    this.owner = owner;
    this.settings = owner.settings;
    this.socket = socket as Socket;
    this.socket.setNoDelay?.(true);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', ignore);
    this.armIdle();
  }

  now(): number {
    return this.settings.now();
  }

  /**
   * Stops keep-alive: the next response carries `connection: close` and the
   * connection closes after it. An idle connection is left open (closing it
   * now would race a request the client may be sending); the owner destroys
   * what remains after the drain period. Safe to repeat.
   */
  drain(): void {
    this.draining = true;
  }

  /** Destroys the connection at once. */
  abort(): void {
    this.socket.destroy();
  }

  /** Called by the sweep once `deadline` has passed. */
  onDeadline(): void {
    const kind = this.deadlineKind;
    this.deadline = Number.POSITIVE_INFINITY;
    this.deadlineKind = DEADLINE_NONE;
    if (kind === DEADLINE_CLOSING) this.socket.destroy();
    else if (kind === DEADLINE_IDLE) this.closeGracefully();
    else if (kind === DEADLINE_HEAD && !this.currentRes) this.reject(408, 'request header timeout');
    else if (kind === DEADLINE_REQUEST && this.currentRes && !this.currentRes.headersSent)
      this.reject(408, 'request timeout');
  }

  closeAfterResponse(response: Http1Response): boolean {
    const req = this.currentReq;
    if (response !== this.currentRes || !req) return true;
    return (
      !req.keepAlive ||
      this.draining ||
      (this.peerEnded && this.pendingBytes === 0) ||
      (req.expectContinue && !req.continueSent && !req.bodyComplete)
    );
  }

  onResponseEnd(response: Http1Response): void {
    if (response !== this.currentRes) return;
    const req = this.currentReq!;
    this.currentRes = undefined;
    this.currentReq = undefined;
    if (response.close || !req.bodyComplete || this.draining) {
      // A body still arriving cannot be skipped safely without reading it all: close instead.
      if (!req.bodyComplete) req.destroy();
      this.closeGracefully();
      return;
    }
    if (this.pendingBytes > 0) {
      // Pipelined bytes wait until this response's completion hooks have run.
      queueMicrotask(() => this.resumeInput());
      return;
    }
    if (this.peerEnded) this.closeGracefully();
    else this.armIdle();
  }

  /** The body consumer wants more: resume the socket, and send 100 Continue if the client waits for it. */
  onBodyRead(req: Http1Request): void {
    if (req !== this.currentReq) return;
    if (
      req.expectContinue &&
      !req.continueSent &&
      !req.bodyComplete &&
      !this.currentRes?.headersSent &&
      !this.closing
    ) {
      req.continueSent = true;
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    if (this.pausedForBody) {
      this.pausedForBody = false;
      if (!this.pausedForPipeline) this.socket.resume();
    }
  }

  private receive(chunk: Buffer): void {
    if (this.closing) return;
    if (this.pendingBytes === 0) {
      this.consume(chunk, 0);
      return;
    }
    if (this.currentRes) {
      this.stashPipelined(chunk, 0);
      return;
    }
    // An incomplete head: look for its end in the new bytes only (plus the few before them), so a
    // head trickling in byte by byte costs linear time, not a rescan and a copy per read.
    if (this.headWaiting && this.pendingBytes + chunk.length <= this.settings.maxHeadBytes) {
      if (findHeadEnd(Buffer.concat([this.pendingTail, chunk]), 0) < 0) {
        this.stash(chunk, 0);
        return;
      }
    }
    this.consume(this.takePending(chunk), 0);
  }

  private resumeInput(): void {
    if (this.closing || this.currentRes) return;
    if (this.pausedForPipeline) {
      this.pausedForPipeline = false;
      if (!this.pausedForBody) this.socket.resume();
    }
    if (this.pendingBytes > 0) this.consume(this.takePending(undefined), 0);
    if (!this.currentRes && !this.closing) {
      if (this.peerEnded) this.closeGracefully();
      else if (this.deadlineKind === DEADLINE_NONE) this.armIdle();
    }
  }

  private consume(buf: Buffer, start: number): void {
    let pos = start;
    while (pos < buf.length && !this.closing && !this.handed) {
      if (this.input === 'length' || this.input === 'chunked') {
        pos = this.readBody(buf, pos);
        continue;
      }
      if (this.input === 'closed') return;
      if (this.currentRes) {
        this.stashPipelined(buf, pos);
        return;
      }
      pos = skipLeadingEmptyLines(buf, pos);
      if (pos >= buf.length) return;
      const result = parseRequestHead(buf, pos, this.settings);
      if (result.kind === 'incomplete') {
        this.stash(buf, pos);
        this.headWaiting = true;
        if (this.deadlineKind !== DEADLINE_HEAD && this.settings.headersTimeoutMs > 0)
          this.arm(DEADLINE_HEAD, this.settings.headersTimeoutMs);
        return;
      }
      if (result.kind === 'error') {
        this.reject(result.status, result.reason);
        return;
      }
      pos = this.startExchange(result.head, buf, pos, result.end);
    }
  }

  /** Keeps `buf[pos..]` for later (no copy). */
  private stash(buf: Buffer, pos: number): void {
    const rest = pos === 0 ? buf : buf.subarray(pos);
    this.pending.push(rest);
    this.pendingBytes += rest.length;
    this.pendingTail =
      rest.length >= 3
        ? rest.subarray(rest.length - 3)
        : Buffer.concat([this.pendingTail, rest]).subarray(-3);
  }

  /** Keeps pipelined bytes while a response is in progress; stops reading past one head's worth. */
  private stashPipelined(buf: Buffer, pos: number): void {
    this.stash(buf, pos);
    if (this.pendingBytes > this.settings.maxHeadBytes && !this.pausedForPipeline) {
      this.pausedForPipeline = true;
      this.socket.pause();
    }
  }

  /** The pending bytes (and `extra`) as one buffer; clears them. */
  private takePending(extra: Buffer | undefined): Buffer {
    if (extra) this.pending.push(extra);
    const all =
      this.pending.length === 1
        ? this.pending[0]!
        : Buffer.concat(this.pending, this.pendingBytes + (extra?.length ?? 0));
    this.clearPending();
    return all;
  }

  private clearPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingTail = EMPTY;
    this.headWaiting = false;
  }

  /** Starts one exchange: reads what body bytes are already here, then hands the request on. */
  private startExchange(head: RequestHead, buf: Buffer, headStart: number, headEnd: number): number {
    if (head.method === 'CONNECT') {
      this.reject(403, 'CONNECT is not supported');
      return buf.length;
    }
    if (head.upgrade) {
      this.handOff(head, buf, headStart, headEnd);
      return buf.length;
    }
    this.deadline = Number.POSITIVE_INFINITY;
    this.deadlineKind = DEADLINE_NONE;
    const req = new Http1Request(this, head);
    const res = new Http1Response(this, head.method, head.versionMinor);
    this.currentReq = req;
    this.currentRes = res;
    let pos = headEnd;
    this.dispatching = true;
    const framing = head.framing;
    if (framing.kind !== 'none' && this.settings.requestTimeoutMs > 0)
      this.arm(DEADLINE_REQUEST, this.settings.requestTimeoutMs);
    if (framing.kind === 'length') {
      this.input = 'length';
      this.remaining = framing.length;
      pos = this.readBody(buf, pos);
    } else if (framing.kind === 'chunked') {
      this.input = 'chunked';
      this.decoder = new ChunkedDecoder(this.settings.maxHeadBytes);
      pos = this.readBody(buf, pos);
    }
    this.dispatching = false;
    if (this.closing) return buf.length;
    this.owner.handler.onRequest(req, res);
    return pos;
  }

  private readBody(buf: Buffer, pos: number): number {
    if (this.input === 'length') {
      const take = Math.min(this.remaining, buf.length - pos);
      if (take > 0) this.pushBody(take === buf.length ? buf : buf.subarray(pos, pos + take));
      this.remaining -= take;
      if (this.remaining === 0) this.endBody();
      return pos + take;
    }
    const decoder = this.decoder!;
    const next = decoder.decode(buf, pos, this.onChunk);
    if (next < 0) {
      this.bodyError(decoder.error);
      return buf.length;
    }
    if (decoder.done) this.endBody();
    return next;
  }

  private pushBody(data: Buffer): void {
    const req = this.currentReq;
    if (!req || req.destroyed) return;
    req.bytesRead += data.length;
    if (!req.push(data) && !this.pausedForBody) {
      this.pausedForBody = true;
      this.socket.pause();
    }
  }

  private endBody(): void {
    if (this.deadlineKind === DEADLINE_REQUEST) {
      this.deadline = Number.POSITIVE_INFINITY;
      this.deadlineKind = DEADLINE_NONE;
    }
    this.input = 'head';
    this.decoder = undefined;
    this.currentReq?.endBody();
  }

  /** A malformed chunked body: 400 before the request was handed on, else its body stream fails. */
  private bodyError(reason: string): void {
    this.input = 'closed';
    if (this.dispatching) {
      this.currentReq = undefined;
      this.currentRes = undefined;
      this.reject(400, reason);
      return;
    }
    this.currentReq?.destroy(new Http1Error('DOWNSTREAM_ABORTED', `invalid request body: ${reason}`));
  }

  /** Answers a request the codec refuses, then closes. */
  private reject(status: number, reason: string): void {
    const text = REJECT_TEXT[status] ?? 'Bad Request';
    this.socket.write(
      `HTTP/1.1 ${status} ${text}\r\nserver: ${this.settings.serverName}\r\nconnection: close\r\n` +
        `content-type: text/plain\r\ncontent-length: ${reason.length}\r\n\r\n${reason}`,
      'latin1',
    );
    this.closeGracefully();
  }

  private handOff(head: RequestHead, buf: Buffer, headStart: number, headEnd: number): void {
    this.handed = true;
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onClose);
    socket.off('error', ignore);
    this.deadline = Number.POSITIVE_INFINITY;
    this.owner.forget(this);
    const request: UpgradeRequest = {
      method: head.method,
      url: head.url,
      headers: head.headers,
      rawHeaders: rawHeaderPairs(buf, headStart, headEnd),
    };
    this.owner.handler.onUpgrade(request, socket, Buffer.from(buf.subarray(headEnd)));
  }

  private closeGracefully(): void {
    if (this.closing) return;
    this.closing = true;
    this.input = 'closed';
    this.clearPending();
    this.socket.end();
    // Read (and drop) until the peer's FIN, so unread bytes never turn our FIN into a reset.
    if (this.pausedForBody || this.pausedForPipeline) this.socket.resume();
    this.arm(DEADLINE_CLOSING, CLOSE_GRACE_MS);
  }

  private peerEnd(): void {
    this.peerEnded = true;
    if (this.closing) {
      this.socket.destroy();
      return;
    }
    const req = this.currentReq;
    if (req) {
      if (!req.bodyComplete) {
        this.input = 'closed';
        req.destroy(new Http1Error('DOWNSTREAM_ABORTED', 'downstream closed before the request body ended'));
      }
      return;
    }
    // No exchange in progress: a partial head can never complete.
    this.closeGracefully();
  }

  private closed(): void {
    this.closing = true;
    this.input = 'closed';
    this.clearPending();
    this.owner.forget(this);
    const req = this.currentReq;
    const res = this.currentRes;
    this.currentReq = undefined;
    this.currentRes = undefined;
    if (req && !req.bodyComplete) {
      req.destroy(new Http1Error('DOWNSTREAM_ABORTED', 'downstream connection closed'));
    }
    res?.onConnectionClosed();
  }

  private armIdle(): void {
    if (this.settings.idleTimeoutMs > 0) this.arm(DEADLINE_IDLE, this.settings.idleTimeoutMs);
    else {
      this.deadline = Number.POSITIVE_INFINITY;
      this.deadlineKind = DEADLINE_NONE;
    }
  }

  private arm(kind: number, ms: number): void {
    this.deadlineKind = kind;
    this.deadline = this.settings.now() + ms;
  }
}

const REJECT_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  408: 'Request Timeout',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

function ignore(): void {}
