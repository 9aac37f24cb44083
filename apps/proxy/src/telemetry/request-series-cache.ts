/**
 * Finds the metric series of a finished request without building a key or
 * an attribute object per request: a Map lookup by cluster name (a string
 * from config, its hash cached by V8), then Istio's peer labels by the
 * upstream endpoint's workload object (outbound) or by authority and peer
 * principal (inbound), then the outcome (code, flags, protocol, grpc status)
 * by comparing fields. Label texts are escaped once, when a series is born.
 *
 * The caches keyed by request input (authority) are bounded: past
 * `MAX_CACHED` entries they are cleared and refill, which costs only the
 * label resolution again; the series themselves live in the metric families.
 */
import type { CounterSeries, HistogramSeries, SeriesCounter, SeriesHistogram } from '@weft/telemetry';
import type { PeerIdentity } from '../tls/tls-runtime.ts';
import type { IstioMetrics, IstioRequestLabels } from './istio-metrics.ts';
import {
  clusterServiceHost,
  serviceLabels,
  UNKNOWN,
  UNKNOWN_WORKLOAD,
  type WorkloadLabels,
} from './workload-identity.ts';

/** Entries kept in one authority-keyed cache before it is cleared. */
export const MAX_CACHED = 1024;

interface OutcomeCounter {
  readonly code: number;
  readonly flags: string;
  readonly series: CounterSeries;
}

/** Inbound label sets of one authority: without a peer identity, and by principal (plain, mTLS). */
interface InboundPeers {
  anonymous: IstioRequestLabels | undefined;
  readonly byPrincipal: Map<string, [IstioRequestLabels | undefined, IstioRequestLabels | undefined]>;
}

/** Weft's per-cluster series and the outbound Istio label sets seen through one cluster. */
export class ClusterSeries {
  readonly name: string;
  readonly duration: HistogramSeries;
  /** The service host of `outbound|PORT|SUBSET|HOST` clusters, else undefined (service from authority). */
  readonly serviceHost: string | undefined;
  private readonly requests: SeriesCounter;
  private readonly outcomes: OutcomeCounter[] = [];
  private last: OutcomeCounter | undefined;
  /** Outbound label sets by endpoint workload (clusters with a service host). */
  readonly byWorkload = new WeakMap<WorkloadLabels, IstioRequestLabels>();
  noWorkload: IstioRequestLabels | undefined;
  /** Outbound label sets by authority, then workload (clusters without a service host). */
  readonly byAuthority = new Map<string, Map<WorkloadLabels | undefined, IstioRequestLabels>>();

  constructor(name: string, requests: SeriesCounter, durations: SeriesHistogram) {
    this.name = name;
    this.requests = requests;
    this.duration = durations.createSeries({ cluster: name });
    this.serviceHost = clusterServiceHost(name);
  }

  /** Counts one request with this outcome. */
  count(code: number, flags: string): void {
    const last = this.last;
    if (last !== undefined && last.code === code && last.flags === flags) {
      last.series.value++;
      return;
    }
    let found: OutcomeCounter | undefined;
    for (const o of this.outcomes) {
      if (o.code === code && o.flags === flags) {
        found = o;
        break;
      }
    }
    if (found === undefined) {
      found = {
        code,
        flags,
        series: this.requests.createSeries({
          cluster: this.name,
          response_code: String(code),
          response_flags: flags,
        }),
      };
      this.outcomes.push(found);
    }
    this.last = found;
    found.series.value++;
  }
}

export class RequestSeriesCache {
  private readonly istio: IstioMetrics;
  private readonly local: WorkloadLabels;
  private readonly requests: SeriesCounter;
  private readonly durations: SeriesHistogram;
  private readonly clusters = new Map<string, ClusterSeries>();
  private readonly inbound = new Map<string, InboundPeers>();

  constructor(
    istio: IstioMetrics,
    local: WorkloadLabels,
    requests: SeriesCounter,
    durations: SeriesHistogram,
  ) {
    this.istio = istio;
    this.local = local;
    this.requests = requests;
    this.durations = durations;
  }

  /** The series of a cluster name (`-` when none was picked). */
  cluster(name: string): ClusterSeries {
    let cluster = this.clusters.get(name);
    if (cluster === undefined) {
      cluster = new ClusterSeries(name, this.requests, this.durations);
      this.clusters.set(name, cluster);
    }
    return cluster;
  }

  /** Istio labels of a request this proxy sent out (reporter `source`). */
  outbound(
    cluster: ClusterSeries,
    workload: WorkloadLabels | undefined,
    authority: string,
  ): IstioRequestLabels {
    if (cluster.serviceHost !== undefined) {
      if (workload === undefined) {
        cluster.noWorkload ??= this.outboundLabels(cluster.serviceHost, undefined);
        return cluster.noWorkload;
      }
      let labels = cluster.byWorkload.get(workload);
      if (labels === undefined) {
        labels = this.outboundLabels(cluster.serviceHost, workload);
        cluster.byWorkload.set(workload, labels);
      }
      return labels;
    }
    let byWorkload = cluster.byAuthority.get(authority);
    if (byWorkload === undefined) {
      if (cluster.byAuthority.size >= MAX_CACHED) cluster.byAuthority.clear();
      byWorkload = new Map();
      cluster.byAuthority.set(authority, byWorkload);
    }
    let labels = byWorkload.get(workload);
    if (labels === undefined) {
      labels = this.outboundLabels(authority, workload);
      byWorkload.set(workload, labels);
    }
    return labels;
  }

  /** Istio labels of a request this proxy received for its workload (reporter `destination`). */
  inboundLabels(authority: string, peer: PeerIdentity | undefined): IstioRequestLabels {
    let peers = this.inbound.get(authority);
    if (peers === undefined) {
      if (this.inbound.size >= MAX_CACHED) this.inbound.clear();
      peers = { anonymous: undefined, byPrincipal: new Map() };
      this.inbound.set(authority, peers);
    }
    if (peer === undefined) {
      peers.anonymous ??= this.inboundPeer(authority, UNKNOWN, false);
      return peers.anonymous;
    }
    const principal = peer.principal ?? UNKNOWN;
    let pair = peers.byPrincipal.get(principal);
    if (pair === undefined) {
      pair = [undefined, undefined];
      peers.byPrincipal.set(principal, pair);
    }
    const slot = peer.authenticated ? 1 : 0;
    let labels = pair[slot];
    if (labels === undefined) {
      labels = this.inboundPeer(authority, principal, peer.authenticated);
      pair[slot] = labels;
    }
    return labels;
  }

  private outboundLabels(host: string, workload: WorkloadLabels | undefined): IstioRequestLabels {
    return this.istio.requestLabels({
      reporter: 'source',
      source: this.local,
      destination: workload ?? UNKNOWN_WORKLOAD,
      service: serviceLabels(host, this.local.namespace),
      connectionSecurityPolicy: 'unknown',
    });
  }

  private inboundPeer(authority: string, principal: string, authenticated: boolean): IstioRequestLabels {
    return this.istio.requestLabels({
      reporter: 'destination',
      source: { ...UNKNOWN_WORKLOAD, principal },
      destination: this.local,
      service: serviceLabels(authority, this.local.namespace),
      connectionSecurityPolicy: authenticated ? 'mutual_tls' : 'none',
    });
  }
}
