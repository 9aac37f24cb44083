import { CLUSTER_TYPE_URL, type Resource } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import { createResourceInterner } from './resource-interner.ts';

function cluster(name: string, timeoutSeconds = 1): Resource {
  return { typeUrl: CLUSTER_TYPE_URL, name, body: { name, connectTimeout: { seconds: timeoutSeconds } } };
}

describe('createResourceInterner', () => {
  it('returns the earlier object for an equal resource, a new one for a changed resource', () => {
    const interner = createResourceInterner();
    const first = [cluster('a'), cluster('b')];
    interner.intern({ [CLUSTER_TYPE_URL]: first });
    interner.endPush();
    const second = interner.intern({ [CLUSTER_TYPE_URL]: [cluster('a'), cluster('b', 2)] })[
      CLUSTER_TYPE_URL
    ]!;
    expect(second[0]).toBe(first[0]);
    expect(second[1]).not.toBe(first[1]);
    expect(second[1]!.body).toEqual({ name: 'b', connectTimeout: { seconds: 2 } });
  });

  it('shares one object between proxies within a push', () => {
    const interner = createResourceInterner();
    const mine = interner.intern({ [CLUSTER_TYPE_URL]: [cluster('a')] })[CLUSTER_TYPE_URL]!;
    const theirs = interner.intern({ [CLUSTER_TYPE_URL]: [cluster('a')] })[CLUSTER_TYPE_URL]!;
    expect(theirs[0]).toBe(mine[0]);
  });

  it('forgets resources no push used since the one before', () => {
    const interner = createResourceInterner();
    const [old] = interner.intern({ [CLUSTER_TYPE_URL]: [cluster('a')] })[CLUSTER_TYPE_URL]!;
    interner.endPush();
    interner.endPush();
    expect(interner.intern({ [CLUSTER_TYPE_URL]: [cluster('a')] })[CLUSTER_TYPE_URL]![0]).not.toBe(old);
  });
});
