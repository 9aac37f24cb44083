/**
 * The chunked transfer coding of request bodies (RFC 9112 section 7.1),
 * decoded incrementally and strictly: hex sizes (bounded), CRLF only,
 * extensions checked for control characters and dropped, trailer fields
 * checked like header fields and dropped. Never throws: `decode` returns -1
 * and sets `error`.
 */
import { COLON, CR, FIELD_CHAR, HEX, HTAB, LF, SP, TOKEN } from './http1-parser.ts';

const DECODE = {
  size: 0,
  sizeSpace: 1,
  extension: 2,
  sizeLf: 3,
  data: 4,
  dataCr: 5,
  dataLf: 6,
  trailerStart: 7,
  trailerName: 8,
  trailerValue: 9,
  trailerLf: 10,
  finalLf: 11,
  done: 12,
} as const;
type DecoderState = (typeof DECODE)[keyof typeof DECODE];

/** Largest chunk size accepted (2^48 bytes): bounds the arithmetic, never a real body. */
const MAX_CHUNK_SIZE = 2 ** 48;

/**
 * Decodes the chunked transfer coding (RFC 9112 section 7.1) incrementally.
 * Chunk extensions are checked for control characters and dropped; trailer
 * fields are checked like header fields and dropped (the proxy does not
 * forward request trailers). Data is handed out as views of the input.
 */
export class ChunkedDecoder {
  private state: DecoderState = DECODE.size;
  private remaining = 0;
  private digits = 0;
  private trailerBytes = 0;
  private readonly maxTrailerBytes: number;
  /** Why decoding failed (set when `decode` returns -1). */
  error = '';

  constructor(maxTrailerBytes: number) {
    this.maxTrailerBytes = maxTrailerBytes;
  }

  /** True once the last chunk and trailer section were read. */
  get done(): boolean {
    return this.state === DECODE.done;
  }

  /**
   * Consumes bytes from `buf[pos..]`, calling `onData` with each piece of
   * chunk data; returns where decoding stopped (the end of the message once
   * `done`, else `buf.length`), or -1 on malformed input (see `error`).
   */
  decode(buf: Buffer, pos: number, onData: (data: Buffer) => void): number {
    let p = pos;
    const end = buf.length;
    while (p < end) {
      const b = buf[p]!;
      switch (this.state) {
        case DECODE.size: {
          if (HEX[b] === 1) {
            this.remaining = this.remaining * 16 + hexValue(b);
            if (++this.digits > 16 || this.remaining > MAX_CHUNK_SIZE)
              return this.fail('chunk size too large');
            p++;
            continue;
          }
          if (this.digits === 0) return this.fail('invalid chunk size');
          if (b === CR) this.state = DECODE.sizeLf;
          else if (b === SP || b === HTAB) this.state = DECODE.sizeSpace;
          else if (b === 0x3b /* ; */) this.state = DECODE.extension;
          else return this.fail('invalid chunk size');
          p++;
          continue;
        }
        case DECODE.sizeSpace:
          // BWS is only allowed before a chunk extension.
          if (b === 0x3b) this.state = DECODE.extension;
          else if (b !== SP && b !== HTAB) return this.fail('invalid chunk size');
          p++;
          continue;
        case DECODE.extension:
          if (b === CR) this.state = DECODE.sizeLf;
          else if (FIELD_CHAR[b] !== 1) return this.fail('invalid chunk extension');
          p++;
          continue;
        case DECODE.sizeLf:
          if (b !== LF) return this.fail('bare CR after chunk size');
          p++;
          this.digits = 0;
          this.state = this.remaining === 0 ? DECODE.trailerStart : DECODE.data;
          continue;
        case DECODE.data: {
          const take = Math.min(this.remaining, end - p);
          onData(buf.subarray(p, p + take));
          p += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = DECODE.dataCr;
          continue;
        }
        case DECODE.dataCr:
          if (b !== CR) return this.fail('chunk data longer than its size');
          this.state = DECODE.dataLf;
          p++;
          continue;
        case DECODE.dataLf:
          if (b !== LF) return this.fail('bare CR after chunk data');
          this.state = DECODE.size;
          p++;
          continue;
        case DECODE.trailerStart:
          if (b === CR) this.state = DECODE.finalLf;
          else if (TOKEN[b] === 1) this.state = DECODE.trailerName;
          else return this.fail('invalid trailer field');
          if (!this.countTrailer()) return -1;
          p++;
          continue;
        case DECODE.trailerName:
          if (b === COLON) this.state = DECODE.trailerValue;
          else if (TOKEN[b] !== 1) return this.fail('invalid trailer field');
          if (!this.countTrailer()) return -1;
          p++;
          continue;
        case DECODE.trailerValue:
          if (b === CR) this.state = DECODE.trailerLf;
          else if (FIELD_CHAR[b] !== 1) return this.fail('invalid trailer field');
          if (!this.countTrailer()) return -1;
          p++;
          continue;
        case DECODE.trailerLf:
          if (b !== LF) return this.fail('bare CR in trailer section');
          this.state = DECODE.trailerStart;
          p++;
          continue;
        case DECODE.finalLf:
          if (b !== LF) return this.fail('bare CR after last chunk');
          this.state = DECODE.done;
          return p + 1;
        case DECODE.done:
          return p;
      }
    }
    return p;
  }

  private countTrailer(): boolean {
    if (++this.trailerBytes <= this.maxTrailerBytes) return true;
    this.fail('trailer section too large');
    return false;
  }

  private fail(reason: string): -1 {
    this.error = reason;
    return -1;
  }
}

function hexValue(b: number): number {
  return b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x57;
}
