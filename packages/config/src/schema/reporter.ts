/** Collects findings with field paths while a value is checked. */
import type { Severity } from '../validation/problem.ts';

export interface Finding {
  severity: Severity;
  path: string;
  message: string;
}

export interface Reporter {
  error(path: string, message: string): void;
  warning(path: string, message: string): void;
}

/** A reporter that appends to `findings`. */
export function collectInto(findings: Finding[]): Reporter {
  return {
    error: (path, message) => findings.push({ severity: 'error', path, message }),
    warning: (path, message) => findings.push({ severity: 'warning', path, message }),
  };
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `path.key`, or `path["key"]` when the key has characters that would make the path ambiguous. */
export function childPath(path: string, key: string): string {
  const step = PLAIN_KEY.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (path === '') return step;
  return step.startsWith('[') ? `${path}${step}` : `${path}.${step}`;
}

/** `path[index]`. */
export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}
