/**
 * Logs a config source's problems as they come and go: a source reports all
 * of its current problems after every read, so logging that list as is would
 * repeat every unchanged problem on every unrelated file change.
 */
import { formatProblem, type Problem } from '@weft/config';
import type { Logger } from '@weft/telemetry';

/** Returns the `onProblems` callback for one source. */
export function createProblemLog(logger: Logger): (problems: readonly Problem[]) => void {
  let reported = new Set<string>();
  return (problems) => {
    const current = new Set(problems.map(formatProblem));
    for (const text of current) if (!reported.has(text)) logger.warn('config problem', { problem: text });
    for (const text of reported)
      if (!current.has(text)) logger.info('config problem resolved', { problem: text });
    reported = current;
  };
}
