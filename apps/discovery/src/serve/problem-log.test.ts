import type { Problem } from '@weft/config';
import { createLogger } from '@weft/telemetry';
import { expect, it } from 'vitest';
import { createProblemLog } from './problem-log.ts';

function problem(name: string): Problem {
  return {
    severity: 'error',
    source: { file: 'a.yaml', line: 3 },
    kind: 'VirtualService',
    name,
    path: 'spec',
    message: 'bad',
  };
}

it('logs each problem once when it appears and once when it is resolved', () => {
  const lines: { level: string; msg: string; problem: string }[] = [];
  const log = createProblemLog(createLogger({ name: 't', write: (l) => lines.push(JSON.parse(l)) }));
  log([problem('x')]);
  log([problem('x')]);
  log([problem('x'), problem('y')]);
  log([problem('y')]);
  expect(lines.map((l) => [l.level, l.msg, l.problem])).toEqual([
    ['warn', 'config problem', 'a.yaml:3 VirtualService x: spec: bad'],
    ['warn', 'config problem', 'a.yaml:3 VirtualService y: spec: bad'],
    ['info', 'config problem resolved', 'a.yaml:3 VirtualService x: spec: bad'],
  ]);
});
