/**
 * OpenAPI v3 schemas of the Istio kinds Weft serves, for their
 * CustomResourceDefinitions. Hand-written, not generated from @weft/config
 * (it exports validation, not schemas): each `spec` keeps unknown fields
 * (`x-kubernetes-preserve-unknown-fields`) and types the structural fields
 * that select, name and route, so `kubectl` catches gross mistakes and
 * Weft's validating webhook (and `weft analyze`) gives the precise messages.
 */

/** One node of a structural schema (the subset of OpenAPI v3 Kubernetes accepts). */
export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'number';
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode;
  items?: SchemaNode;
  required?: string[];
  enum?: string[];
  format?: string;
  minimum?: number;
  maximum?: number;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-int-or-string'?: true;
}

const str: SchemaNode = { type: 'string' };
const strings: SchemaNode = { type: 'array', items: str };
const labels: SchemaNode = { type: 'object', additionalProperties: str };
/** An object whose content Weft validates itself. */
const open = (description: string): SchemaNode => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
});
const openList = (description: string): SchemaNode => ({
  type: 'array',
  description,
  items: open(description),
});
const port: SchemaNode = { type: 'integer', minimum: 0, maximum: 65_535 };
const workloadSelector: SchemaNode = {
  type: 'object',
  properties: { labels },
};
const policySelector: SchemaNode = {
  type: 'object',
  properties: { matchLabels: labels },
};
const targetRef = open('the Kubernetes resource the policy attaches to');

const spec = (properties: Record<string, SchemaNode>, required: string[] = []): SchemaNode => ({
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
  properties,
  ...(required.length > 0 ? { required } : {}),
});

export interface IstioKind {
  group: 'networking.istio.io' | 'security.istio.io';
  kind: string;
  plural: string;
  shortNames: string[];
  description: string;
  spec: SchemaNode;
}

export const ISTIO_KINDS: readonly IstioKind[] = [
  {
    group: 'networking.istio.io',
    kind: 'VirtualService',
    plural: 'virtualservices',
    shortNames: ['vs'],
    description: 'Routing rules for traffic to a set of hosts.',
    spec: spec({
      hosts: strings,
      gateways: strings,
      http: openList('HTTP routes, first match wins'),
      tls: openList('TLS routes by SNI'),
      tcp: openList('TCP routes'),
      exportTo: strings,
    }),
  },
  {
    group: 'networking.istio.io',
    kind: 'DestinationRule',
    plural: 'destinationrules',
    shortNames: ['dr'],
    description: 'Traffic policy and subsets of a service.',
    spec: spec(
      {
        host: str,
        trafficPolicy: open('load balancing, connection pool, outlier detection, TLS'),
        subsets: {
          type: 'array',
          items: {
            type: 'object',
            'x-kubernetes-preserve-unknown-fields': true,
            required: ['name'],
            properties: { name: str, labels, trafficPolicy: open('subset traffic policy') },
          },
        },
        workloadSelector,
        exportTo: strings,
      },
      ['host'],
    ),
  },
  {
    group: 'networking.istio.io',
    kind: 'Gateway',
    plural: 'gateways',
    shortNames: ['gw'],
    description: 'A load balancer at the edge of the mesh.',
    spec: spec({
      selector: labels,
      servers: {
        type: 'array',
        items: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: {
            port: {
              type: 'object',
              properties: { number: port, name: str, protocol: str, targetPort: port },
            },
            bind: str,
            hosts: strings,
            tls: open('server TLS settings'),
            name: str,
          },
        },
      },
    }),
  },
  {
    group: 'networking.istio.io',
    kind: 'ServiceEntry',
    plural: 'serviceentries',
    shortNames: ['se'],
    description: 'A service in the mesh registry that Kubernetes does not know.',
    spec: spec(
      {
        hosts: strings,
        addresses: strings,
        ports: {
          type: 'array',
          items: {
            type: 'object',
            properties: { number: port, protocol: str, name: str, targetPort: port },
          },
        },
        location: { type: 'string', enum: ['MESH_EXTERNAL', 'MESH_INTERNAL'] },
        resolution: { type: 'string', enum: ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'] },
        endpoints: openList('workload entries inline'),
        workloadSelector,
        exportTo: strings,
        subjectAltNames: strings,
      },
      ['hosts'],
    ),
  },
  {
    group: 'networking.istio.io',
    kind: 'WorkloadEntry',
    plural: 'workloadentries',
    shortNames: ['we'],
    description: 'A workload outside Kubernetes (a VM), selected by ServiceEntries.',
    spec: spec({
      address: str,
      ports: { type: 'object', additionalProperties: port },
      labels,
      network: str,
      locality: str,
      weight: { type: 'integer', minimum: 0 },
      serviceAccount: str,
    }),
  },
  {
    group: 'networking.istio.io',
    kind: 'Sidecar',
    plural: 'sidecars',
    shortNames: [],
    description: 'The ingress and egress of the proxies it selects.',
    spec: spec({
      workloadSelector,
      ingress: openList('inbound listeners'),
      egress: openList('outbound listeners and reachable hosts'),
      outboundTrafficPolicy: open('REGISTRY_ONLY or ALLOW_ANY'),
    }),
  },
  {
    group: 'security.istio.io',
    kind: 'PeerAuthentication',
    plural: 'peerauthentications',
    shortNames: ['pa'],
    description: 'Mutual TLS mode of the workloads it selects.',
    spec: spec({
      selector: policySelector,
      mtls: {
        type: 'object',
        properties: { mode: { type: 'string', enum: ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] } },
      },
      portLevelMtls: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          properties: { mode: { type: 'string', enum: ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] } },
        },
      },
    }),
  },
  {
    group: 'security.istio.io',
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    shortNames: ['ap'],
    description: 'Who may call the workloads it selects, and how.',
    spec: spec({
      selector: policySelector,
      targetRef,
      targetRefs: { type: 'array', items: targetRef },
      action: { type: 'string', enum: ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] },
      provider: { type: 'object', properties: { name: str } },
      rules: openList('from, to and when conditions'),
    }),
  },
  {
    group: 'security.istio.io',
    kind: 'RequestAuthentication',
    plural: 'requestauthentications',
    shortNames: ['ra'],
    description: 'JWT validation for the workloads it selects.',
    spec: spec({
      selector: policySelector,
      targetRef,
      targetRefs: { type: 'array', items: targetRef },
      jwtRules: {
        type: 'array',
        items: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: { issuer: str, jwksUri: str, jwks: str, audiences: strings },
        },
      },
    }),
  },
];

/** Served versions per group; the last is the storage version (Istio's choice: v1). */
export const GROUP_VERSIONS: Record<IstioKind['group'], readonly string[]> = {
  'networking.istio.io': ['v1alpha3', 'v1beta1', 'v1'],
  'security.istio.io': ['v1beta1', 'v1'],
};
