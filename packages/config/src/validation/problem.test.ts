import { describe, expect, it } from 'vitest';
import { formatProblem, type Problem } from './problem.ts';

const problem = (extra: Partial<Problem>): Problem => ({
  severity: 'error',
  path: 'spec.host',
  message: 'required',
  ...extra,
});

describe('formatProblem', () => {
  it.each([
    [
      'everything known',
      problem({ source: { file: 'a.yaml', line: 3 }, kind: 'DestinationRule', namespace: 'ns', name: 'r' }),
      'a.yaml:3 DestinationRule ns/r: spec.host: required',
    ],
    [
      'no source',
      problem({ kind: 'DestinationRule', namespace: 'ns', name: 'r' }),
      'DestinationRule ns/r: spec.host: required',
    ],
    [
      'no object',
      problem({ source: { file: 'a.yaml', line: 1 }, path: '', message: 'YAML syntax error: x' }),
      'a.yaml:1: YAML syntax error: x',
    ],
    [
      'a kind without name',
      problem({ source: { file: 'a.yaml', line: 1 }, kind: 'Gateway', path: 'metadata.name' }),
      'a.yaml:1 Gateway: metadata.name: required',
    ],
    ['only a message', problem({ path: '', message: 'dir: cannot read' }), 'dir: cannot read'],
  ])('formats %s', (_name, p, expected) => {
    expect(formatProblem(p)).toBe(expected);
  });
});
