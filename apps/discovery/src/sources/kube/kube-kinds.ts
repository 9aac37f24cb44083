/**
 * What the Kubernetes source watches: the core kinds the mesh model needs and
 * the Istio API kinds Weft reads, with the version choice for the Istio kinds
 * (the version the cluster serves, preferring its preferred version, among
 * those @weft/config accepts).
 */
import type { Kind } from '@weft/config';

/** One Istio kind: its API group, its resource plural and the versions Weft accepts, newest first. */
export interface IstioKindInfo {
  kind: Kind;
  group: string;
  plural: string;
  versions: readonly string[];
}

const NETWORKING = 'networking.istio.io';
const SECURITY = 'security.istio.io';
const NETWORKING_VERSIONS = ['v1', 'v1beta1', 'v1alpha3'] as const;
const SECURITY_VERSIONS = ['v1', 'v1beta1'] as const;

/** Every Istio kind Weft reads from a cluster. */
export const ISTIO_KINDS: readonly IstioKindInfo[] = [
  { kind: 'VirtualService', group: NETWORKING, plural: 'virtualservices', versions: NETWORKING_VERSIONS },
  { kind: 'DestinationRule', group: NETWORKING, plural: 'destinationrules', versions: NETWORKING_VERSIONS },
  { kind: 'Gateway', group: NETWORKING, plural: 'gateways', versions: NETWORKING_VERSIONS },
  { kind: 'ServiceEntry', group: NETWORKING, plural: 'serviceentries', versions: NETWORKING_VERSIONS },
  { kind: 'WorkloadEntry', group: NETWORKING, plural: 'workloadentries', versions: NETWORKING_VERSIONS },
  { kind: 'Sidecar', group: NETWORKING, plural: 'sidecars', versions: NETWORKING_VERSIONS },
  {
    kind: 'PeerAuthentication',
    group: SECURITY,
    plural: 'peerauthentications',
    versions: SECURITY_VERSIONS,
  },
  {
    kind: 'AuthorizationPolicy',
    group: SECURITY,
    plural: 'authorizationpolicies',
    versions: SECURITY_VERSIONS,
  },
  {
    kind: 'RequestAuthentication',
    group: SECURITY,
    plural: 'requestauthentications',
    versions: SECURITY_VERSIONS,
  },
];

/** The API groups of `ISTIO_KINDS`. */
export const ISTIO_GROUPS: readonly string[] = [NETWORKING, SECURITY];

/** What API discovery told about one group: its served versions and the preferred one. */
export interface ServedGroup {
  name: string;
  preferredVersion?: string;
  versions: readonly string[];
}

/** One Istio kind to watch at one version. */
export interface IstioWatch extends IstioKindInfo {
  version: string;
  /** The collection path, e.g. `/apis/networking.istio.io/v1/virtualservices`. */
  path: string;
}

export interface IstioWatchPlan {
  watches: IstioWatch[];
  /** One line per kind the cluster does not serve at an accepted version (its CRD is missing). */
  missing: string[];
}

/**
 * Chooses the version to watch per Istio kind: the group's preferred version
 * when it serves the kind and Weft accepts it, else the first accepted version
 * (newest first) that serves it. `resources(group, version)` lists the
 * resource plurals served at that version. A kind served nowhere is `missing`.
 */
export function planIstioWatches(
  groups: readonly ServedGroup[],
  resources: (group: string, version: string) => ReadonlySet<string>,
): IstioWatchPlan {
  const watches: IstioWatch[] = [];
  const missing: string[] = [];
  for (const info of ISTIO_KINDS) {
    const group = groups.find((g) => g.name === info.group);
    const candidates = group
      ? [
          ...(group.preferredVersion !== undefined ? [group.preferredVersion] : []),
          ...info.versions.filter((v) => v !== group.preferredVersion),
        ].filter((v) => info.versions.includes(v) && group.versions.includes(v))
      : [];
    const version = candidates.find((v) => resources(info.group, v).has(info.plural));
    if (version === undefined) {
      const reason = group
        ? `${info.group} serves no ${info.plural} at ${info.versions.join(', ')}`
        : `the cluster does not serve ${info.group}`;
      missing.push(`${info.kind}: ${reason} (is its CRD installed?); ${info.kind} objects are not read`);
      continue;
    }
    watches.push({ ...info, version, path: `/apis/${info.group}/${version}/${info.plural}` });
  }
  return { watches, missing };
}
