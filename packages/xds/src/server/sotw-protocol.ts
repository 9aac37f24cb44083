/**
 * State-of-the-world ADS (StreamAggregatedResources), one instance per stream.
 *
 * Implements Envoy's "xDS REST and gRPC protocol" doc, sections "ACK and
 * NACK semantics", "When to send an update", "Resource updates",
 * "How the client specifies what resources to return" and "Eventual
 * consistency considerations":
 * - version and nonce are per type; a request whose `response_nonce` is not
 *   the latest nonce sent for its type is stale and ignored;
 * - `error_detail` marks a NACK: recorded, logged, never answered by sending
 *   the same version again; other types keep flowing;
 * - a response is sent only when the stream's view of a type changed, or the
 *   subscription changed; on a new stream a first request whose
 *   `version_info` equals the view's version (now, or when the node's first
 *   snapshot arrives) is a resume and gets no response; nonces of a first
 *   request are left over from an old stream and not checked;
 * - LDS/CDS are full-state (wildcard unless names were given); RDS/EDS/SDS
 *   carry the named subset, with no deletion signal, and an update of a view
 *   the stream already has carries only the resources that changed;
 * - several types changing at once go out in PUSH_ORDER, and clusters removed
 *   from a full-state CDS are kept in the first CDS response and dropped by a
 *   second one after LDS/RDS (make-before-break).
 */
import type { Snapshot } from '../cache/snapshot.ts';
import { resourceType } from '../resource-types/index.ts';
import { type Resource, resourceVersion } from '../resources/resource.ts';
import { CLUSTER_TYPE_URL, PUSH_ORDER, type TypeUrl } from '../type-urls.ts';
import type { DiscoveryRequest, DiscoveryResponse } from '../wire/ads-wire.ts';
import { createView, encodeResourceList, type SotwView, snapshotView } from './sotw-view.ts';
import { responseBytes, type StreamContext, type StreamProtocol } from './stream-session.ts';
import { isNack, type Subscription, subscriptionUpdate } from './subscription.ts';

interface SotwTypeState {
  subscription: Subscription;
  /** The view last sent; undefined before the first response. */
  sent: SotwView | undefined;
  /** The `version_info` of the type's first request on this stream: what the client runs after a reconnect. */
  clientVersion: string;
}

/**
 * For a type that is not full-state in SotW (RDS, EDS, SDS), the resources
 * of `next` that are new or changed since `sent`, when that is fewer than
 * all: the xDS protocol lets such a response carry only what changed (the
 * client keeps the others), as Istio's incremental EDS push does, so one
 * endpoint change sends one ClusterLoadAssignment instead of every one.
 * Undefined means "send the whole view".
 */
function changedSubset(typeUrl: TypeUrl, sent: SotwView | undefined, next: SotwView): Resource[] | undefined {
  if (sent === undefined || resourceType(typeUrl).fullStateInSotw) return undefined;
  const changed: Resource[] = [];
  for (const [name, resource] of next.resources) {
    const before = sent.resources.get(name);
    if (before === resource) continue;
    if (before === undefined || resourceVersion(before) !== resourceVersion(resource)) changed.push(resource);
  }
  return changed.length > 0 && changed.length < next.resources.size ? changed : undefined;
}

export function createSotwProtocol(
  context: StreamContext<DiscoveryResponse>,
): StreamProtocol<DiscoveryRequest> {
  const types = new Map<TypeUrl, SotwTypeState>();

  /** Sends `view` (or, when given, only `changed` of it, at the view's version). */
  const send = (
    typeUrl: TypeUrl,
    state: SotwTypeState,
    view: SotwView,
    changed?: readonly Resource[],
  ): void => {
    const count = changed?.length ?? view.resources.size;
    const nonce = context.recordSent(typeUrl, view.version, count, 0);
    state.sent = view;
    const encodedResources = changed ? encodeResourceList(typeUrl, changed) : view.encodedResources;
    context.write(
      {
        versionInfo: view.version,
        typeUrl,
        nonce,
        resources: [],
        encodedResources,
        controlPlane: { identifier: context.controlPlaneId },
      },
      responseBytes(encodedResources),
    );
    context.logger?.debug('sent', {
      type: resourceType(typeUrl).shortName,
      version: view.version,
      nonce,
      count,
      ...(changed ? { partial: true } : {}),
    });
  };

  /**
   * After a reconnect the client's first request names the version it runs;
   * when that is the view's version nothing is sent (it would be the same).
   */
  const resume = (typeUrl: TypeUrl, state: SotwTypeState, view: SotwView): void => {
    state.sent = view;
    const status = context.status(typeUrl);
    status.sentVersion = view.version;
    status.ackedVersion = view.version;
    context.logger?.debug('resumed', { type: resourceType(typeUrl).shortName, version: view.version });
  };

  /** Pushes, in PUSH_ORDER, every type in `typeUrls` whose view changed or that `force` names. */
  const push = (
    snapshot: Snapshot,
    typeUrls: readonly TypeUrl[],
    force: (typeUrl: TypeUrl) => boolean,
  ): void => {
    const pending: { typeUrl: TypeUrl; state: SotwTypeState; next: SotwView; forced: boolean }[] = [];
    for (const typeUrl of PUSH_ORDER) {
      const state = types.get(typeUrl);
      if (!state || !typeUrls.includes(typeUrl)) continue;
      const next = snapshotView(snapshot, typeUrl, state.subscription);
      if (state.sent === undefined && state.clientVersion !== '' && state.clientVersion === next.version) {
        resume(typeUrl, state, next);
        continue;
      }
      const forced = force(typeUrl);
      if (forced || state.sent?.version !== next.version) pending.push({ typeUrl, state, next, forced });
    }
    // Make-before-break: clusters dropped from full-state CDS stay until the
    // endpoints, listeners and routes that may still use them were replaced.
    const cds = pending.find((p) => p.typeUrl === CLUSTER_TYPE_URL);
    const later = pending.some((p) => p.typeUrl !== CLUSTER_TYPE_URL);
    const previous = cds?.state.sent?.resources;
    const removed =
      cds && previous ? [...previous.keys()].filter((name) => !cds.next.resources.has(name)) : [];
    const deferRemoval = cds !== undefined && later && removed.length > 0 && cds.state.subscription.wildcard;
    for (const { typeUrl, state, next, forced } of pending) {
      if (deferRemoval && typeUrl === CLUSTER_TYPE_URL) {
        const kept = new Map<string, Resource>(next.resources);
        for (const name of removed) kept.set(name, previous?.get(name) as Resource);
        send(typeUrl, state, createView(typeUrl, kept));
      } else {
        send(typeUrl, state, next, forced ? undefined : changedSubset(typeUrl, state.sent, next));
      }
    }
    if (deferRemoval && cds) send(CLUSTER_TYPE_URL, cds.state, cds.next);
  };

  return {
    onRequest(request: DiscoveryRequest, typeUrl: TypeUrl) {
      const status = context.status(typeUrl);
      const nonce = request.responseNonce ?? '';
      let state = types.get(typeUrl);
      // Nonces live within a stream: on the type's first request any nonce is
      // left over from an earlier stream and is not checked.
      if (state && nonce !== '') {
        if (nonce !== status.sentNonce) {
          context.logger?.debug('ignoring stale request', { typeUrl, nonce, latest: status.sentNonce });
          return;
        }
        if (isNack(request.errorDetail)) {
          context.nack(typeUrl, status.sentVersion, nonce, request.errorDetail ?? {});
        } else {
          context.ack(typeUrl, request.versionInfo ?? '', nonce);
        }
      }
      const update = subscriptionUpdate(
        state?.subscription,
        request.resourceNames ?? [],
        resourceType(typeUrl).fullStateInSotw,
      );
      if (!state) {
        state = {
          subscription: update.subscription,
          sent: undefined,
          clientVersion: request.versionInfo ?? '',
        };
        types.set(typeUrl, state);
        const snapshot = context.snapshot();
        if (snapshot) push(snapshot, [typeUrl], () => true);
        return;
      }
      state.subscription = update.subscription;
      const snapshot = context.snapshot();
      if (snapshot && (nonce === '' || update.changed)) push(snapshot, [typeUrl], () => true);
    },
    onSnapshot(snapshot: Snapshot) {
      // A type requested before the node had a snapshot was never answered.
      push(snapshot, [...types.keys()], (typeUrl) => types.get(typeUrl)?.sent === undefined);
    },
  };
}
