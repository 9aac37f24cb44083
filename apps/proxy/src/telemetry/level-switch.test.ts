import { describe, expect, it } from 'vitest';
import { createLevelSwitch } from './level-switch.ts';

describe('createLevelSwitch', () => {
  it('filters by the current level, for children too', () => {
    const lines: string[] = [];
    const sw = createLevelSwitch({ name: 't', level: 'warn', write: (l) => lines.push(l), now: () => 0 });
    const child = sw.logger.child({ part: 'x' });
    sw.logger.info('hidden');
    child.warn('shown');
    sw.setLevel('debug');
    child.debug('now shown');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown', 'now shown']);
    expect(sw.level()).toBe('debug');
  });
});
