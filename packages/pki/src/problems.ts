/**
 * Validation results and runtime errors shared by the package.
 *
 * Validation never throws: it returns `{ ok: true, ... }` or `{ ok: false,
 * problems }` where each problem names the field it is about. Runtime failures
 * (I/O, crypto, a peer misbehaving) are `PkiError`s with a stable `code`.
 */

/** One thing wrong with an input, with the path of the field it concerns. */
export interface Problem {
  /** Dotted path of the offending field, e.g. `extensions.subjectAltName[1]`; `''` for the whole input. */
  field: string;
  message: string;
}

/** Success carrying `T`'s fields, or the list of every problem found. */
export type Result<T extends object> = ({ ok: true } & T) | { ok: false; problems: Problem[] };

/** Renders problems as one line: `field: message; field: message`. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ');
}

export type PkiErrorCode =
  | 'invalid-argument'
  | 'invalid-key'
  | 'invalid-certificate'
  | 'signing-failed'
  | 'proto-load-failed';

/** A runtime failure in @weft/pki; branch on `code`. */
export class PkiError extends Error {
  readonly code: PkiErrorCode;
  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PkiError';
    this.code = code;
  }
}
