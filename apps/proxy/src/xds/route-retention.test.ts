import { describe, expect, it } from 'vitest';
import type { RouteConfig } from '../config/route-config.ts';
import { RouteRetention } from './route-retention.ts';

function table(name: string): RouteConfig {
  return { name } as unknown as RouteConfig;
}

describe('RouteRetention', () => {
  it('serves a dropped table while a serving listener names it, then for the grace period only', () => {
    let now = 0;
    const retention = new RouteRetention(() => now, 1000);
    const one = table('one');
    retention.onRoutesUpdated(new Map([['one', one]]));
    retention.onRoutesUpdated(new Map([['two', table('two')]]));
    retention.onServing(new Set(['one']));
    now = 5000;
    expect(retention.get('one')).toBe(one);
    retention.onServing(new Set(['two']));
    now = 5999;
    expect(retention.get('one')).toBe(one);
    now = 6000;
    expect(retention.get('one')).toBeUndefined();
    expect(retention.names()).toEqual([]);
  });

  it('forgets a retained table once RDS sends it again', () => {
    const retention = new RouteRetention(() => 0, 1000);
    retention.onRoutesUpdated(new Map([['one', table('one')]]));
    retention.onRoutesUpdated(new Map());
    expect(retention.names()).toEqual(['one']);
    retention.onRoutesUpdated(new Map([['one', table('one')]]));
    expect(retention.names()).toEqual([]);
  });

  it('never retains a table nobody dropped', () => {
    const retention = new RouteRetention(() => 0, 1000);
    retention.onRoutesUpdated(new Map([['one', table('one')]]));
    expect(retention.get('one')).toBeUndefined();
  });
});
