/**
 * Istio's host and namespace rules: short-name expansion, wildcard matching
 * and `exportTo` visibility.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#VirtualService (hosts)
 */

/**
 * Expands a short host name the way Istio does: a name without dots is read
 * relative to the namespace of the rule that wrote it
 * (`reviews` in namespace `default` -> `reviews.default.svc.cluster.local`).
 * Names with dots and wildcards are kept as written, lowercased.
 */
export function resolveHost(host: string, namespace: string, domainSuffix: string): string {
  const lower = host.toLowerCase();
  if (lower === '*' || lower.includes('.')) return lower;
  return `${lower}.${namespace}.svc.${domainSuffix}`;
}

/**
 * True when the concrete or wildcard host `pattern` covers `host`:
 * `*` covers everything, `*.example.com` covers `a.example.com` and
 * `*.b.example.com`, anything else must be equal.
 */
export function hostCovers(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  if (pattern.startsWith('*')) {
    const suffix = pattern.slice(1);
    return host.endsWith(suffix) && (!host.startsWith('*') || host.length >= pattern.length);
  }
  return false;
}

/** True when two hosts (either may be a wildcard) share at least one concrete name. */
export function hostsIntersect(a: string, b: string): boolean {
  return hostCovers(a, b) || hostCovers(b, a);
}

/** The more specific of two intersecting hosts (the concrete one, or the longer wildcard). */
export function narrowerHost(a: string, b: string): string {
  return hostCovers(a, b) ? b : a;
}

/**
 * `exportTo` visibility: empty or `*` exports everywhere, `.` only to the
 * owner's namespace, `~` nowhere, other entries name namespaces.
 */
export function exportedTo(
  exportTo: readonly string[] | undefined,
  owner: string,
  namespace: string,
): boolean {
  if (!exportTo || exportTo.length === 0) return true;
  return exportTo.some(
    (entry) => entry === '*' || entry === namespace || (entry === '.' && owner === namespace),
  );
}

/** True when every label in `selector` is present with the same value in `labels`. */
export function labelsMatch(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/**
 * Sidecar egress / Gateway server host entries: `namespace/host` where
 * namespace may be `*`, `.` (the owner's namespace) or `~` (none); a bare host
 * means `*` for Gateway servers. Returns the namespace and host parts.
 */
export function splitNamespacedHost(entry: string, owner: string): { namespace: string; host: string } {
  const slash = entry.indexOf('/');
  if (slash < 0) return { namespace: '*', host: entry.toLowerCase() };
  const namespace = entry.slice(0, slash);
  return { namespace: namespace === '.' ? owner : namespace, host: entry.slice(slash + 1).toLowerCase() };
}
