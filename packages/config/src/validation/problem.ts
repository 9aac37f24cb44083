/**
 * A configuration problem: what is wrong, where, and how bad. Validation
 * returns these; it never throws.
 */
import type { SourceRef } from '../resources/resource-types.ts';

export type Severity = 'error' | 'warning';

export interface Problem {
  severity: Severity;
  source?: SourceRef;
  kind?: string;
  namespace?: string;
  name?: string;
  /** Dotted field path with indexes, e.g. `spec.http[0].route[1].weight`; '' for the whole object or file. */
  path: string;
  message: string;
}

/**
 * One line: `file:line Kind namespace/name: field.path: reason`. Parts that
 * are unknown are left out with their separator (`file:line: reason` for a
 * YAML syntax error, `Kind namespace/name: reason` without a source).
 */
export function formatProblem(p: Problem): string {
  const head: string[] = [];
  if (p.source) head.push(`${p.source.file}:${p.source.line}`);
  if (p.kind) head.push(p.kind);
  if (p.name !== undefined) head.push(p.namespace ? `${p.namespace}/${p.name}` : p.name);
  const parts = [head.join(' '), p.path, p.message].filter((part) => part !== '');
  return parts.join(': ');
}
