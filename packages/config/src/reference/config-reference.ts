/**
 * Renders docs/configuration.md from the schemas, so the reference cannot
 * drift from what the validator does. Regenerate with
 * `npx node packages/config/scripts/write-config-reference.ts`.
 */
import { KINDS } from '../kinds/kinds.ts';
import type { Kind } from '../resources/resource-types.ts';
import { describeSchema } from './describe-schema.ts';

/** Checks across fields and objects, per kind, in words. */
const SEMANTIC_NOTES: Record<Kind, string[]> = {
  VirtualService: [
    '`exportTo` entries are `.`, `*` or namespace names, without duplicates; `*` stands alone.',
    '`hosts` is required (delegate VirtualServices without hosts are not supported); each host is a host name with an optional leading wildcard, or an IP address.',
    'Host `*` is rejected unless the VirtualService is bound only to gateways (not `mesh`).',
    '`gateways` entries are `mesh`, `name` or `namespace/name`.',
    'At least one of `http`, `tcp`, `tls` is set.',
    'Each HTTP route has exactly one of `route`, `redirect`, `directResponse`; `rewrite` and `redirect` exclude each other; `directResponse` cannot be combined with `rewrite`, `retries`, `mirror` or `fault`.',
    'Route weights are relative (as in current Istio): none negative, and with several destinations at least one positive. One destination without weight gets all the traffic.',
    'A destination `subset` that no DestinationRule for that host defines is a warning (across objects).',
    'A gateway named in `gateways` that is not among the loaded Gateways is a warning (across objects).',
  ],
  DestinationRule: [
    '`exportTo` as for VirtualService; with a `workloadSelector`, only the own namespace.',
    'Subset names are DNS-1123 labels and unique within the rule.',
    '`portLevelSettings` lists each port once, each with a policy besides `port`; `trafficPolicy` and `connectionPool` are not empty; `tunnel` and `proxyProtocol` exclude each other; `useClientProtocol` is not allowed with `h2UpgradePolicy: UPGRADE`; a maglev `tableSize` is prime.',
    'Two DestinationRules for the same host in one namespace are a warning (across objects).',
  ],
  Gateway: [
    'Server hosts are `[namespace/]host`, namespace `*`, `.`, `~` or a name.',
    'Every server port has a name; `targetPort` is rejected (it has no effect).',
    'HTTPS and TLS servers need `tls`; SIMPLE, MUTUAL and OPTIONAL_MUTUAL need `credentialName` (or `credentialNames`), or `serverCertificate` and `privateKey` (or `tlsCertificates`); MUTUAL and OPTIONAL_MUTUAL without a credential also need `caCertificates`. Only one certificate source may be set; ISTIO_MUTUAL takes none; PASSTHROUGH ignores them (warning); `caCrl` is not allowed with `credentialName` or SIMPLE.',
    'Plain-text HTTP servers may carry `tls` only for `httpsRedirect`; other protocols not at all.',
    'A port name is used by one port number only.',
  ],
  ServiceEntry: [
    '`exportTo` as for VirtualService, plus `~` (no one), which stands alone.',
    'Port names and port numbers are unique; a host may not be `*` alone.',
    'CIDR `addresses` only with resolution NONE or STATIC.',
    '`resolution: NONE` (the default) takes no `endpoints`; `STATIC` needs `endpoints` or `workloadSelector`, and its endpoint addresses are IPs or `unix://` paths; `DNS_ROUND_ROBIN` takes at most one endpoint.',
    'DNS resolution without endpoints cannot resolve a wildcard host.',
    'Endpoint `ports` keys name ports declared in `spec.ports`.',
    'In the mesh model, each host is a Service; endpoints come from `endpoints`, from WorkloadEntries of the same namespace selected by `workloadSelector`, or (DNS without either) the host itself. The workload port is the endpoint port of the same name, else `targetPort`, else the port number.',
  ],
  WorkloadEntry: [
    '`address` is required unless `network` names a remote network; it is an IP, a host name or a `unix://` socket path (absolute or abstract `@name`, no `ports`).',
    '`serviceAccount` defaults to `default`; `weight` to 1.',
  ],
  Sidecar: [
    'Egress hosts are `namespace/dnsName` (`*/`, `./` and `~/` allowed); `~ns/` excludes the hosts of namespace `ns`.',
    'Only one egress listener may omit `port`, and it comes last; listener ports (per bind address) are unique; duplicate egress hosts, and hosts beside `*/*`, are warnings.',
    'Ingress TLS does not support `httpsRedirect`, credentials, `tlsCertificates` or `subjectAltNames`, nor modes ISTIO_MUTUAL and PASSTHROUGH.',
    '`ingress[].defaultEndpoint` is `127.0.0.1:PORT`, `0.0.0.0:PORT` or `unix://PATH`.',
    '`outboundTrafficPolicy.egressProxy` only with mode `ALLOW_ANY`.',
    'An empty Sidecar is a warning.',
  ],
  PeerAuthentication: [
    '`portLevelMtls` keys are port numbers 1..65535 and need a `selector` with `matchLabels`.',
    'A PeerAuthentication in the root namespace (`istio-system` by default) without selector is mesh-wide.',
  ],
  AuthorizationPolicy: [
    'Empty-rule semantics, as Istio: an ALLOW policy without rules (including `spec: {}`) allows nothing for the workloads it selects; a rule `{}` matches every request; a DENY or CUSTOM policy without rules is an error (it never matches), an AUDIT one a warning. `from` and `to`, when present, are not empty.',
    'A request matches a rule when it matches any `from`, any `to` and all `when` entries.',
    '`source` and `operation` must set at least one field; `serviceAccounts` cannot be combined with `principals` or `namespaces`.',
    'IP blocks are IPs or CIDRs; ports are numbers 1..65535; `*` only at the start or the end of principals, namespaces, trust domains, hosts and paths; path templates may use `{*}` and `{**}`; a path not starting with `/` is a warning (it never matches).',
    '`targetRef`/`targetRefs` must not name another namespace.',
    'Condition keys are those Istio documents (`source.ip`, `remote.ip`, `source.namespace`, `source.principal`, `request.auth.*`, `request.headers[...]`, `destination.ip`, `destination.port`, `connection.sni`, ...), with `values` or `notValues`.',
    '`provider` is required with, and only allowed with, action `CUSTOM`; CUSTOM is validated only (not enforced, warning).',
  ],
  RequestAuthentication: [
    'Each rule sets `issuer` or `jwksUri`; `jwks` is a JSON Web Key Set with a `keys` list; `jwksUri` an http(s) URL; not both.',
    'Each issuer appears in one rule only; `targetRef`/`targetRefs` must not name another namespace.',
  ],
};

function escapePipes(text: string): string {
  return text.replaceAll('|', '\\|');
}

function kindSection(kind: Kind): string {
  const definition = KINDS[kind];
  const rows = describeSchema(definition.spec, 'spec').slice(1);
  const table = [
    '| field | type | status | validation |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${r.path}\` | ${r.type} | ${r.status} | ${escapePipes(r.rules.join('; '))} |`),
  ];
  return [
    `## ${kind}`,
    '',
    `\`apiVersion\`: ${definition.versions.map((v) => `\`${definition.group}/${v}\``).join(', ')}.`,
    '',
    ...table,
    '',
    'Semantic checks:',
    '',
    ...SEMANTIC_NOTES[kind].map((note) => `- ${note}`),
    '',
  ].join('\n');
}

/** The whole configuration reference, as Markdown. */
export function renderConfigReference(): string {
  const kinds = Object.keys(KINDS) as Kind[];
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from packages/config schemas by packages/config/scripts/write-config-reference.ts; do not edit. -->',
    '',
    'Weft reads Istio configuration unchanged. This page lists, per kind and per',
    'field, what `@weft/config` accepts and checks. Check your files with',
    '`npx weft analyze PATH...`: one line per problem,',
    '`file:line Kind namespace/name: field.path: reason`, exit code 1 on errors.',
    '',
    'Status:',
    '',
    '- **supported**: read, validated, and handed to the control plane in the typed',
    '  model. (Which Envoy features a field turns into is documented by',
    '  weft-discovery.)',
    '- **validated only**: accepted and checked so Istio YAML loads unchanged, but',
    '  ignored by Weft; `weft analyze` prints a warning when it is set.',
    '- **not supported**: rejected with an error (an unknown field, or a kind below).',
    '',
    'Every object: `apiVersion`, `kind`, `metadata` (`name` a DNS-1123 subdomain,',
    '`namespace` a DNS-1123 label defaulting to `default`, `labels`, `annotations`,',
    '`resourceVersion`, `generation`; other Kubernetes metadata such as `uid` is',
    'accepted and dropped), `spec`, and `status` (ignored). Unknown fields are errors',
    '(with a "did you mean" hint); proto field names (`prefix_rewrite`) are read as',
    'their camelCase name with a warning; `null` values count as absent. Durations are',
    'written as Istio does: `10s`, `1.5s`, `250ms`, `1m30s`, `1h`. `kind: List`',
    'documents (as `kubectl get -o yaml` writes them) are expanded.',
    '',
    '## Kinds',
    '',
    '| kind | API group | status |',
    '| --- | --- | --- |',
    ...kinds.map((k) => `| ${k} | \`${KINDS[k].group}\` (${KINDS[k].versions.join(', ')}) | supported |`),
    '| EnvoyFilter, WorkloadGroup, ProxyConfig, Telemetry, WasmPlugin and any other kind of these four groups | `networking.istio.io`, `security.istio.io`, `telemetry.istio.io`, `extensions.istio.io` | not supported (error) |',
    '| resources of other API groups (`apps/v1 Deployment`, `v1 Service`, `install.istio.io` IstioOperator, the Kubernetes Gateway API `gateway.networking.k8s.io`, ...) and YAML without `apiVersion` and `kind` | | skipped with a warning |',
    '',
    'A bad object never takes down the good objects loaded beside it; in a watched',
    'directory the last good version of an object keeps serving until it is fixed.',
    'Two objects with the same kind, namespace and name are an error on the later one.',
    '',
    ...kinds.map(kindSection),
  ].join('\n');
}
