/**
 * What injection adds to a pod: the weft-proxy sidecar container, the init
 * container that installs the traffic-capture rules, and their volumes.
 * Names, ports, paths and the token audience follow Istio's, so operators
 * and tools that know Istio's injected pods find their way.
 */

/** Injection settings, from weft-discovery's flags. */
export interface SidecarTemplateOptions {
  /** The weft-proxy image (its entrypoint is `weft-proxy`). */
  proxyImage: string;
  /** xDS address the proxies dial, e.g. `weft-discovery.weft-system.svc:15010`. */
  discoveryAddress: string;
  /** CA address the proxies get certificates from, e.g. `weft-ca.weft-system.svc:15012`; '' passes no `--ca-addr`. */
  caAddress: string;
  /** Lifetime of the projected service-account token; default 43200 (12 h, as Istio). */
  tokenExpirationSeconds?: number;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

/** Capture settings read from the pod's annotations (already validated). */
export interface CaptureSettings {
  excludeInboundPorts: readonly number[];
  excludeOutboundPorts: readonly number[];
  includeOutboundIPRanges: string;
  excludeOutboundIPRanges: string;
}

export const PROXY_CONTAINER = 'weft-proxy';
export const INIT_CONTAINER = 'weft-init';
export const TOKEN_VOLUME = 'istio-token';
export const ROOT_CERT_VOLUME = 'istiod-ca-cert';
/** The ConfigMap weft-ca publishes the root bundle as, in every namespace. */
export const ROOT_CERT_CONFIGMAP = 'istio-ca-root-cert';
export const PROXY_UID = 1337;
export const TOKEN_AUDIENCE = 'istio-ca';
export const TOKEN_PATH = '/var/run/secrets/tokens/istio-token';
export const ROOT_CERT_PATH = '/var/run/secrets/istio/root-cert.pem';
/** Ports of the proxy itself, never captured inbound (stats, merged metrics, health). */
export const PROXY_PORTS: readonly number[] = [15090, 15021, 15020];

function fieldEnv(name: string, fieldPath: string): Record<string, unknown> {
  return { name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } };
}

/** The sidecar container: UID/GID 1337, readiness on 15021 `/healthz/ready`, downward-API env, token and root mounts. */
export function proxyContainer(
  options: SidecarTemplateOptions,
  podLabels: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  return {
    name: PROXY_CONTAINER,
    image: options.proxyImage,
    imagePullPolicy: options.imagePullPolicy ?? 'IfNotPresent',
    args: [
      '--mode',
      'sidecar',
      '--discovery',
      options.discoveryAddress,
      ...(options.caAddress === ''
        ? []
        : [
            '--ca-addr',
            options.caAddress,
            '--token-file',
            TOKEN_PATH,
            '--ca-root-file',
            ROOT_CERT_PATH,
            '--service-account',
            '$(SERVICE_ACCOUNT)',
          ]),
      // Istio's pod-facing ports: Prometheus on 15090, the readiness probe on 15021.
      '--stats-addr',
      '0.0.0.0:15090',
      '--health-addr',
      '0.0.0.0:15021',
      '--workload',
      '$(POD_NAME)',
      '--namespace',
      '$(POD_NAMESPACE)',
      '--ip',
      '$(INSTANCE_IP)',
      '--interception',
      'REDIRECT',
      ...labelArgs(podLabels),
    ],
    env: [
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('INSTANCE_IP', 'status.podIP'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    ],
    ports: [{ name: 'http-envoy-prom', containerPort: 15090, protocol: 'TCP' }],
    readinessProbe: {
      httpGet: { path: '/healthz/ready', port: 15021 },
      initialDelaySeconds: 1,
      periodSeconds: 2,
      timeoutSeconds: 3,
      failureThreshold: 30,
    },
    resources: {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '2', memory: '1Gi' },
    },
    securityContext: {
      runAsUser: PROXY_UID,
      runAsGroup: PROXY_UID,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: TOKEN_VOLUME, mountPath: '/var/run/secrets/tokens', readOnly: true },
      { name: ROOT_CERT_VOLUME, mountPath: '/var/run/secrets/istio', readOnly: true },
    ],
  };
}

/**
 * The pod's labels as `--label KEY=VALUE` (node metadata LABELS, as Istio's
 * injector bakes ISTIO_METAJSON_LABELS in at admission): workload selectors
 * of Gateways and policies match on them. `$` is doubled so that Kubernetes
 * does not expand `$(VAR)` inside a label value.
 */
function labelArgs(labels: Readonly<Record<string, string>>): string[] {
  return Object.keys(labels)
    .sort()
    .flatMap((key) => ['--label', `${key}=${labels[key]}`.replaceAll('$', '$$$$')]);
}

/**
 * IPv4 entries of a comma-separated CIDR list (or `*`). Capture rules are
 * IPv4-only (iptables, not ip6tables): IPv6 traffic is never captured, so
 * IPv6 ranges have nothing to include or exclude.
 */
function ipv4Ranges(ranges: string): string {
  if (ranges === '*') return ranges;
  return ranges
    .split(',')
    .filter((r) => r !== '' && !r.includes(':'))
    .join(',');
}

/**
 * `weft-proxy iptables ...` (weft-proxy's capture command, its flags as it
 * defines them) as root with NET_ADMIN and NET_RAW only.
 */
export function initContainer(
  options: SidecarTemplateOptions,
  capture: CaptureSettings,
): Record<string, unknown> {
  const excludedInbound = [...new Set([...PROXY_PORTS, ...capture.excludeInboundPorts])];
  return {
    name: INIT_CONTAINER,
    image: options.proxyImage,
    imagePullPolicy: options.imagePullPolicy ?? 'IfNotPresent',
    args: [
      'iptables',
      '--proxy-uid',
      String(PROXY_UID),
      '--proxy-gid',
      String(PROXY_UID),
      '--inbound-port',
      '15006',
      '--outbound-port',
      '15001',
      '--exclude-inbound-ports',
      excludedInbound.join(','),
      '--exclude-outbound-ports',
      capture.excludeOutboundPorts.join(','),
      '--include-outbound-cidrs',
      ipv4Ranges(capture.includeOutboundIPRanges),
      '--exclude-outbound-cidrs',
      ipv4Ranges(capture.excludeOutboundIPRanges),
    ],
    resources: {
      requests: { cpu: '10m', memory: '16Mi' },
      limits: { cpu: '100m', memory: '64Mi' },
    },
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      privileged: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    },
  };
}

/** The projected token (audience `istio-ca`) and the `istio-ca-root-cert` ConfigMap volume. */
export function sidecarVolumes(options: SidecarTemplateOptions): Record<string, unknown>[] {
  return [
    {
      name: TOKEN_VOLUME,
      projected: {
        sources: [
          {
            serviceAccountToken: {
              audience: TOKEN_AUDIENCE,
              expirationSeconds: options.tokenExpirationSeconds ?? 43_200,
              path: 'istio-token',
            },
          },
        ],
      },
    },
    { name: ROOT_CERT_VOLUME, configMap: { name: ROOT_CERT_CONFIGMAP } },
  ];
}
