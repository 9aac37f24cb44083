/**
 * A request body of unknown length that is streamed upstream at once and
 * copied (up to a limit) so a retry can replay it, as Envoy's router
 * buffers for retries. A retry is possible only once the body has ended
 * within the limit.
 */
import { PassThrough, type Readable } from 'node:stream';

export class ReplayBuffer {
  /** The body for the first attempt: the downstream bytes as they arrive (with backpressure). */
  readonly live: PassThrough;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private overflow = false;
  private ended = false;

  constructor(source: Readable, limit: number) {
    this.live = new PassThrough();
    source.on('data', (chunk: Buffer) => {
      if (this.overflow) return;
      this.size += chunk.length;
      if (this.size > limit) {
        this.overflow = true;
        this.chunks.length = 0;
      } else this.chunks.push(chunk);
    });
    source.once('end', () => {
      this.ended = true;
    });
    source.once('error', (error) => this.live.destroy(error));
    source.pipe(this.live);
  }

  /** True when the whole body is held and can be sent again. */
  replayable(): boolean {
    return this.ended && !this.overflow;
  }

  /** The whole body (only when replayable). */
  buffer(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}
