/**
 * Property test: whatever a client sends, in any order, interleaved with
 * snapshot changes, a stream never fails with INTERNAL and every response is
 * well-formed. Drives the real stream session over an in-memory call.
 */
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSnapshot } from '../cache/snapshot.ts';
import { createSnapshotCache } from '../cache/snapshot-cache.ts';
import { buildCluster, buildClusterLoadAssignment } from '../testing/resource-builders.ts';
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, isTypeUrl, LISTENER_TYPE_URL } from '../type-urls.ts';
import type { DeltaDiscoveryResponse, DiscoveryResponse } from '../wire/ads-wire.ts';
import type { AdsMode } from './ads-server-types.ts';
import { createDeltaProtocol } from './delta-protocol.ts';
import { createSotwProtocol } from './sotw-protocol.ts';
import { runStream } from './stream-session.ts';
import { createWriteBudget } from './write-budget.ts';

/** A server duplex call in memory: requests go in with `send`, responses and the final status are recorded. */
class FakeCall<Res> extends EventEmitter {
  readonly written: Res[] = [];
  readonly errors: { code?: number; details?: string }[] = [];
  constructor() {
    super();
    this.on('error', (error: { code?: number; details?: string }) => this.errors.push(error));
  }
  write(response: Res, done?: () => void): boolean {
    this.written.push(response);
    done?.();
    return true;
  }
  end(): void {}
  send(request: unknown): void {
    this.emit('data', request);
  }
}

const NAMES = ['a', 'b', 'c', '*', ''];
const TYPE_URLS = [CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL, 'type.googleapis.com/junk', ''];

const arbNames = fc.array(fc.constantFrom(...NAMES), { maxLength: 4 });
const arbDetail = fc.option(
  fc.record({ code: fc.integer({ min: 0, max: 16 }), message: fc.string({ maxLength: 5 }) }),
  {
    nil: undefined,
  },
);
const arbStep = fc.oneof(
  fc.record({
    kind: fc.constant('request' as const),
    typeUrl: fc.constantFrom(...TYPE_URLS),
    names: arbNames,
    unsubscribe: arbNames,
    nonce: fc.oneof(fc.constant('latest'), fc.constant(''), fc.string({ maxLength: 3 })),
    version: fc.oneof(fc.constant(''), fc.string({ maxLength: 3 })),
    errorDetail: arbDetail,
    withNode: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('snapshot' as const),
    clusters: fc.subarray(['a', 'b', 'c']),
    ip: fc.nat(3),
  }),
);

type Step = typeof arbStep extends fc.Arbitrary<infer T> ? T : never;

function run(mode: AdsMode, steps: readonly Step[]): void {
  const cache = createSnapshotCache();
  const call = new FakeCall<DiscoveryResponse | DeltaDiscoveryResponse>();
  // A small budget: responses often wait their turn, and are released as the fake call takes them.
  const registry = { add: () => {}, remove: () => {}, budget: createWriteBudget(256) };
  const serverCall = call as unknown as grpc.ServerDuplexStream<never, never>;
  if (mode === 'sotw') runStream(serverCall, mode, { cache }, createSotwProtocol as never, registry);
  else runStream(serverCall, mode, { cache }, createDeltaProtocol as never, registry);
  let first = true;
  for (const step of steps) {
    if (step.kind === 'snapshot') {
      cache.setSnapshot(
        'n',
        createSnapshot({
          [CLUSTER_TYPE_URL]: step.clusters.map((c) => buildCluster(c)),
          [ENDPOINT_TYPE_URL]: step.clusters.map((c) =>
            buildClusterLoadAssignment(c, [`10.0.0.${step.ip}:80`]),
          ),
        }),
      );
      continue;
    }
    const latest = [...call.written].reverse().find((r) => r.typeUrl === step.typeUrl)?.nonce ?? '';
    const nonce = step.nonce === 'latest' ? latest : step.nonce;
    const node = first || step.withNode ? { node: { id: 'n' } } : {};
    first = false;
    call.send(
      mode === 'sotw'
        ? {
            ...node,
            typeUrl: step.typeUrl,
            resourceNames: step.names,
            responseNonce: nonce,
            versionInfo: step.version,
            errorDetail: step.errorDetail,
          }
        : {
            ...node,
            typeUrl: step.typeUrl,
            resourceNamesSubscribe: step.names,
            resourceNamesUnsubscribe: step.unsubscribe,
            responseNonce: nonce,
            errorDetail: step.errorDetail,
          },
    );
  }
  expect(call.errors).toEqual([]);
  let previous = 0;
  for (const response of call.written) {
    expect(isTypeUrl(response.typeUrl)).toBe(true);
    expect(Number(response.nonce)).toBeGreaterThan(previous);
    previous = Number(response.nonce);
  }
}

describe('ADS stream under arbitrary request sequences', () => {
  it.each(['sotw', 'delta'] as const)('%s: never fails internally and answers only known types', (mode) => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 25 }), (steps) => run(mode, steps)),
      { numRuns: 300 },
    );
  });
});
