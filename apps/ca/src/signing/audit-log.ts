/**
 * The issuance audit log: one JSON line per issued certificate in
 * `STATE_DIR/audit.log` (0600): time, serial, SPIFFE ID, not-before,
 * not-after, key type, and the caller (how it authenticated and as whom).
 * Never a key or a token.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

export interface AuditRecord {
  serial: string;
  spiffeId: string;
  notBefore: Date;
  notAfter: Date;
  keyType: string;
  caller: { method: string; subject: string };
}

export interface AuditLog {
  record(entry: AuditRecord): void;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/**
 * Opens (appends to) the audit log. Lines recorded in the same turn of the
 * event loop are written together (one write call). `onError` hears write
 * failures; issuing goes on.
 */
export function openAuditLog(path: string, clock: () => number, onError: (error: Error) => void): AuditLog {
  const stream: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  stream.on('error', onError);
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    stream.write(pending.join(''));
    pending = [];
  };
  return {
    record(entry) {
      const line = {
        time: new Date(clock()).toISOString(),
        event: 'certificate-issued',
        serial: entry.serial,
        spiffeId: entry.spiffeId,
        notBefore: entry.notBefore.toISOString(),
        notAfter: entry.notAfter.toISOString(),
        keyType: entry.keyType,
        caller: entry.caller,
      };
      if (pending.length === 0) setImmediate(flush);
      pending.push(`${JSON.stringify(line)}\n`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        flush();
        stream.end(() => resolve());
      }),
  };
}
