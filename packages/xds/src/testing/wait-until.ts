/** Bounded polling for tests: resolves once a condition holds, rejects after a timeout. */

export class WaitTimeoutError extends Error {
  readonly code = 'WAIT_TIMEOUT';
  constructor(description: string, timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for ${description}`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Polls `condition` every `intervalMs` (default 5) until it returns true;
 * rejects with WaitTimeoutError after `timeoutMs` (default 5000).
 */
export async function waitUntil(
  condition: () => boolean,
  options: { timeoutMs?: number; intervalMs?: number; description?: string } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 5;
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new WaitTimeoutError(options.description ?? 'a condition', timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
