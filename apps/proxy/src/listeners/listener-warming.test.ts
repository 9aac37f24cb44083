import { describe, expect, it } from 'vitest';
import { compileListener, type ListenerConfig } from '../config/listener-config.ts';
import { filterChain, httpConnectionManager, listener, tcpProxy } from '../testing/builders.ts';
import { ListenerWarmer } from './listener-warming.ts';

function compiled(name: string, rds: string | undefined): ListenerConfig {
  const result = compileListener(
    listener(name, 0, [filterChain(rds ? httpConnectionManager(rds) : tcpProxy('c'))]),
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
}

describe('ListenerWarmer', () => {
  it('activates a listener once its routes arrive, keeping the previous version meanwhile', () => {
    const now = 0;
    const routes = new Set<string>(['80']);
    const warmer = new ListenerWarmer(() => now, 15_000);
    const v1 = compiled('http', '80');
    const tcp = compiled('tcp', undefined);
    expect(
      warmer.select(
        new Map([
          ['http', v1],
          ['tcp', tcp],
        ]),
        (n) => routes.has(n),
      ),
    ).toEqual(
      new Map([
        ['http', v1],
        ['tcp', tcp],
      ]),
    );
    const v2 = compiled('http', '8080');
    const wanted = new Map([
      ['http', v2],
      ['tcp', tcp],
    ]);
    expect(warmer.select(wanted, (n) => routes.has(n)).get('http')).toBe(v1);
    expect(warmer.warming(wanted)).toEqual(['http']);
    routes.add('8080');
    expect(warmer.select(wanted, (n) => routes.has(n)).get('http')).toBe(v2);
    expect(warmer.warming(wanted)).toEqual([]);
  });

  it('does not bind a new listener before its routes, and gives up waiting after the timeout', () => {
    let now = 0;
    const warmer = new ListenerWarmer(() => now, 15_000);
    const wanted = new Map([['http', compiled('http', '80')]]);
    expect(warmer.select(wanted, () => false).size).toBe(0);
    now = 15_000;
    expect(warmer.select(wanted, () => false).size).toBe(1);
  });
});
