/**
 * Checks across objects: duplicates, subsets and gateways that a
 * VirtualService references. Never throws.
 */
import { lineOf } from '../loading/parse-config-yaml.ts';
import type { Destination, VirtualServiceSpec } from '../resources/networking-types.ts';
import type { ConfigObject, DestinationRule, Kind, VirtualService } from '../resources/resource-types.ts';
import type { Problem, Severity } from './problem.ts';

/** Istio's default DNS suffix, used to expand short host names. */
const DOMAIN_SUFFIX = 'cluster.local';

/**
 * A VirtualService or DestinationRule host as Istio reads it: a short name
 * (no dot) is a Kubernetes service in the object's namespace.
 */
export function resolveShortHost(host: string, namespace: string, domainSuffix = DOMAIN_SUFFIX): string {
  return host.includes('.') || host === '*' ? host : `${host}.${namespace}.svc.${domainSuffix}`;
}

/** True when `pattern` (possibly `*.suffix` or `*`) matches `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

function problemAt(object: ConfigObject, severity: Severity, path: string, message: string): Problem {
  const problem: Problem = {
    severity,
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
    path,
    message,
  };
  if (object.source)
    problem.source = { file: object.source.file, line: lineOf(object, path) ?? object.source.line };
  return problem;
}

function where(object: ConfigObject): string {
  return object.source ? `${object.source.file}:${object.source.line}` : 'another source';
}

function* destinations(spec: VirtualServiceSpec): Generator<[Destination, string]> {
  for (const [i, route] of (spec.http ?? []).entries()) {
    for (const [j, d] of (route.route ?? []).entries())
      yield [d.destination, `spec.http[${i}].route[${j}].destination`];
    if (route.mirror) yield [route.mirror, `spec.http[${i}].mirror`];
    for (const [j, m] of (route.mirrors ?? []).entries())
      yield [m.destination, `spec.http[${i}].mirrors[${j}].destination`];
  }
  for (const [section, routes] of [
    ['tcp', spec.tcp ?? []],
    ['tls', spec.tls ?? []],
  ] as const) {
    for (const [i, route] of routes.entries()) {
      for (const [j, d] of (route.route ?? []).entries())
        yield [d.destination, `spec.${section}[${i}].route[${j}].destination`];
    }
  }
}

/**
 * Problems across `objects`: a kind/namespace/name defined twice (error, on
 * the later one); a destination subset no DestinationRule defines for its
 * host (warning, as Istio's analyzer); a VirtualService gateway that names no
 * loaded Gateway (warning); two DestinationRules for one host in one
 * namespace (warning).
 */
export function validateReferences(objects: readonly ConfigObject[]): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, ConfigObject>();
  /** The first object of each kind/namespace/name; later duplicates are only reported. */
  const unique: ConfigObject[] = [];
  for (const object of objects) {
    const key = `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
    const first = seen.get(key);
    if (first)
      problems.push(
        problemAt(
          object,
          'error',
          'metadata.name',
          `duplicate ${object.kind}: also defined at ${where(first)}`,
        ),
      );
    else {
      seen.set(key, object);
      unique.push(object);
    }
  }

  const rules = unique.filter((o): o is DestinationRule => o.kind === 'DestinationRule');
  const ruleHosts = rules.map((dr) => ({ dr, host: resolveShortHost(dr.spec.host, dr.metadata.namespace) }));
  const drByHost = new Map<string, DestinationRule>();
  for (const { dr, host } of ruleHosts) {
    const key = `${dr.metadata.namespace}/${host}`;
    const first = drByHost.get(key);
    if (first && first !== dr) {
      problems.push(
        problemAt(
          dr,
          'warning',
          'spec.host',
          `another DestinationRule for ${host} in this namespace: ${first.metadata.name} (${where(first)})`,
        ),
      );
    } else drByHost.set(key, dr);
  }

  // Index rules by exact host; only wildcard hosts need a scan.
  const subsetsByHost = new Map<string, typeof ruleHosts>();
  const wildcardRules = ruleHosts.filter((r) => r.host.startsWith('*'));
  for (const r of ruleHosts) {
    if (r.host.startsWith('*')) continue;
    const list = subsetsByHost.get(r.host) ?? [];
    list.push(r);
    subsetsByHost.set(r.host, list);
  }

  const gateways = new Set(
    objects.filter((o) => o.kind === 'Gateway').map((g) => `${g.metadata.namespace}/${g.metadata.name}`),
  );
  for (const vs of unique.filter((o): o is VirtualService => o.kind === ('VirtualService' satisfies Kind))) {
    const ns = vs.metadata.namespace;
    for (const [destination, path] of destinations(vs.spec)) {
      if (destination.subset === undefined) continue;
      const host = resolveShortHost(destination.host, ns);
      const candidates = [...(subsetsByHost.get(host) ?? []), ...wildcardRules];
      const defined = candidates.some(
        ({ dr, host: drHost }) =>
          hostMatches(drHost, host) && dr.spec.subsets?.some((s) => s.name === destination.subset),
      );
      if (!defined) {
        problems.push(
          problemAt(
            vs,
            'warning',
            `${path}.subset`,
            `subset ${JSON.stringify(destination.subset)} of ${host} is not defined by any DestinationRule`,
          ),
        );
      }
    }
    vs.spec.gateways?.forEach((gateway, i) => {
      if (gateway === 'mesh') return;
      const ref = gateway.includes('/') ? gateway : `${ns}/${gateway}`;
      if (!gateways.has(ref))
        problems.push(problemAt(vs, 'warning', `spec.gateways[${i}]`, `gateway ${ref} is not defined`));
    });
  }
  return problems;
}
