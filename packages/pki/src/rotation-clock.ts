/**
 * When to renew a certificate: once `renewAtShare` of its lifetime has
 * passed (default half, as Istio's agent does), moved by a random jitter of
 * up to `jitterShare` of the lifetime either way so a fleet issued together
 * does not renew together.
 */
import { PkiError, type Problem } from './problems.ts';

export interface RotationClockOptions {
  /** Share of the lifetime after which to renew, in (0, 1); default 0.5. */
  renewAtShare?: number;
  /** Largest jitter as a share of the lifetime, in [0, 0.5); default 0.01. */
  jitterShare?: number;
  /** Uniform random in [0, 1); default Math.random. */
  random?: () => number;
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number;
}

export interface RotationClock {
  /** When to renew a certificate valid from `notBefore` to `notAfter`; within that window. */
  nextRenewal(notBefore: Date, notAfter: Date): Date;
  /** Milliseconds from now until `nextRenewal`, never negative (0: renew now). */
  delayMs(notBefore: Date, notAfter: Date): number;
}

/** Problems with rotation options, each with its field. Never throws. */
export function validateRotationOptions(options: RotationClockOptions): Problem[] {
  const problems: Problem[] = [];
  const share = options.renewAtShare ?? 0.5;
  const jitter = options.jitterShare ?? 0.01;
  if (!(share > 0 && share < 1))
    problems.push({ field: 'renewAtShare', message: `must be in (0, 1), got ${share}` });
  if (!(jitter >= 0 && jitter < 0.5))
    problems.push({ field: 'jitterShare', message: `must be in [0, 0.5), got ${jitter}` });
  return problems;
}

/** Creates a rotation clock; throws `PkiError('invalid-argument')` on options `validateRotationOptions` rejects. */
export function createRotationClock(options: RotationClockOptions = {}): RotationClock {
  const problems = validateRotationOptions(options);
  if (problems.length > 0) {
    throw new PkiError('invalid-argument', problems.map((p) => `${p.field}: ${p.message}`).join('; '));
  }
  const share = options.renewAtShare ?? 0.5;
  const jitter = options.jitterShare ?? 0.01;
  const random = options.random ?? Math.random;
  const clock = options.clock ?? Date.now;
  const nextRenewal = (notBefore: Date, notAfter: Date): Date => {
    const start = notBefore.getTime();
    const lifetime = Math.max(0, notAfter.getTime() - start);
    const offset = lifetime * (share + (random() * 2 - 1) * jitter);
    return new Date(start + Math.min(lifetime, Math.max(0, offset)));
  };
  return {
    nextRenewal,
    delayMs: (notBefore, notAfter) => Math.max(0, nextRenewal(notBefore, notAfter).getTime() - clock()),
  };
}
