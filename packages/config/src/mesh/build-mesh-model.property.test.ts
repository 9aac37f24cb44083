import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceEntryPort, WorkloadEntrySpec } from '../resources/networking-types.ts';
import type { ConfigObject, ServiceEntry, WorkloadEntry } from '../resources/resource-types.ts';
import { buildMeshModel, createMeshModel, spiffeId, workloadFromEntry } from './build-mesh-model.ts';
import type { Endpoint, MeshConfig, MeshModel, Service, ServicePort, Workload } from './mesh-types.ts';
import { defaultMeshConfig, protocolFromPort } from './protocol.ts';

/**
 * The mesh model as first written: every ServiceEntry selector matched
 * against every WorkloadEntry. The indexed `buildMeshModel` must give the
 * same model on any input.
 */
function straightforwardMeshModel(objects: readonly ConfigObject[], mesh: MeshConfig): MeshModel {
  const id = (o: ConfigObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  const byId = (a: ConfigObject, b: ConfigObject) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0);
  const entries = objects.filter((o): o is ServiceEntry => o.kind === 'ServiceEntry').sort(byId);
  const workloads = objects.filter((o): o is WorkloadEntry => o.kind === 'WorkloadEntry').sort(byId);
  const inline = (spec: WorkloadEntrySpec, name: string, namespace: string): Workload =>
    workloadFromEntry({
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadEntry',
      metadata: { name, namespace },
      spec,
    });
  const servicePort = (port: ServiceEntryPort): ServicePort => ({
    name: port.name,
    number: port.number,
    protocol: protocolFromPort(port),
    ...(port.targetPort === undefined ? {} : { targetPort: port.targetPort }),
  });
  const endpoint = (service: Service, port: ServicePort, w: Workload, workload: string): Endpoint => ({
    hostname: service.hostname,
    servicePort: port,
    address: w.address,
    port: w.ports[port.name] ?? port.targetPort ?? port.number,
    labels: w.labels,
    serviceAccount: w.serviceAccount,
    tlsMode: w.tlsMode,
    locality: w.locality,
    network: w.network,
    weight: w.weight,
    healthy: w.healthy,
    workload,
  });
  const services: Service[] = [];
  const endpoints: Endpoint[] = [];
  for (const { spec, metadata } of entries) {
    const ports = (spec.ports ?? []).map(servicePort);
    const selector = spec.workloadSelector?.labels ?? {};
    const members: [Workload, string][] = spec.workloadSelector
      ? workloads
          .filter(
            (w) =>
              w.metadata.namespace === metadata.namespace &&
              Object.entries(selector).every(([k, v]) => w.spec.labels?.[k] === v),
          )
          .map((w) => [workloadFromEntry(w), id(w)])
      : (spec.endpoints ?? []).map((e, i) => [
          inline(e, `${metadata.name}[${i}]`, metadata.namespace),
          `ServiceEntry ${metadata.namespace}/${metadata.name}[${i}]`,
        ]);
    const accounts = new Set(spec.subjectAltNames ?? []);
    for (const [w] of members) accounts.add(spiffeId(mesh.trustDomain, w.namespace, w.serviceAccount));
    const resolution = spec.resolution ?? 'NONE';
    for (const hostname of spec.hosts) {
      const service: Service = {
        hostname,
        namespace: metadata.namespace,
        addresses: [...(spec.addresses ?? [])],
        ports,
        resolution,
        location: spec.location ?? 'MESH_EXTERNAL',
        labels: { ...(metadata.labels ?? {}) },
        exportTo: [...(spec.exportTo ?? ['*'])],
        serviceAccounts: [...accounts].sort(),
        origin: { kind: 'ServiceEntry', namespace: metadata.namespace, name: metadata.name },
      };
      services.push(service);
      const dnsSelf =
        members.length === 0 &&
        !spec.workloadSelector &&
        (resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') &&
        !hostname.startsWith('*');
      for (const port of ports) {
        for (const [w, workload] of members) endpoints.push(endpoint(service, port, w, workload));
        if (dnsSelf)
          endpoints.push(
            endpoint(
              service,
              port,
              inline({ address: hostname }, hostname, metadata.namespace),
              `ServiceEntry ${metadata.namespace}/${metadata.name}`,
            ),
          );
      }
    }
  }
  return createMeshModel(services, endpoints);
}

const namespace = fc.constantFrom('a', 'b');
const labels = fc.dictionary(fc.constantFrom('app', 'version', 'tier'), fc.constantFrom('x', 'y'), {
  maxKeys: 3,
});
/** Selectors of one to three labels mostly (those need the index's candidate filter), sometimes none. */
const selector = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.dictionary(fc.constantFrom('app', 'version', 'tier'), fc.constantFrom('x', 'y'), {
      minKeys: 2,
      maxKeys: 3,
    }),
  },
  { weight: 1, arbitrary: labels },
);
const workloadSpec = fc.record(
  {
    address: fc.ipV4(),
    labels,
    ports: fc.dictionary(fc.constantFrom('http', 'grpc'), fc.integer({ min: 1, max: 65535 }), { maxKeys: 2 }),
    serviceAccount: fc.constantFrom('sa1', 'sa2'),
    locality: fc.constantFrom('eu/west', 'us/east'),
    weight: fc.integer({ min: 1, max: 5 }),
  },
  { requiredKeys: ['address'] },
);
const workloadEntry = fc
  .record({ name: fc.constantFrom('w1', 'w2', 'w3', 'w4', 'w5', 'w6'), namespace, spec: workloadSpec })
  .map(
    ({ name, namespace, spec }): WorkloadEntry => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadEntry',
      metadata: { name, namespace },
      spec,
    }),
  );
const serviceEntry = fc
  .record({
    name: fc.constantFrom('s1', 's2', 's3', 's4'),
    namespace,
    hosts: fc.uniqueArray(fc.constantFrom('h1.com', 'h2.com', '*.h3.com', 'h4.com'), {
      minLength: 1,
      maxLength: 2,
    }),
    ports: fc.uniqueArray(
      fc.record(
        {
          number: fc.integer({ min: 1, max: 4 }),
          name: fc.constantFrom('http', 'grpc', 'tcp'),
          targetPort: fc.integer({ min: 1000, max: 1002 }),
        },
        { requiredKeys: ['number', 'name'] },
      ),
      { selector: (p) => p.number, minLength: 1, maxLength: 2 },
    ),
    resolution: fc.constantFrom('NONE' as const, 'STATIC' as const, 'DNS' as const),
    members: fc.oneof(
      fc.record({ workloadSelector: fc.record({ labels: selector }, { requiredKeys: [] }) }),
      fc.record({ endpoints: fc.array(workloadSpec, { maxLength: 3 }) }),
      fc.constant({}),
    ),
    subjectAltNames: fc.array(fc.constantFrom('spiffe://x/ns/a/sa/z'), { maxLength: 1 }),
  })
  .map(
    ({ name, namespace, members, ...spec }): ServiceEntry => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name, namespace },
      spec: { ...spec, ...members },
    }),
  );

/** The whole model as plain data: services in order, each with its endpoints per port. */
function dump(model: MeshModel) {
  return model.services.map((service) => ({
    service,
    endpoints: service.ports.map((port) => model.endpoints(service.hostname, port.number)),
  }));
}

describe('buildMeshModel with indexed selection', () => {
  it('equals the straightforward selector matching on random ServiceEntries and WorkloadEntries', () => {
    const mesh = defaultMeshConfig({ trustDomain: 'example.org' });
    fc.assert(
      fc.property(
        fc.array(fc.oneof(serviceEntry, workloadEntry, workloadEntry), { maxLength: 20 }),
        (objects) => {
          expect(dump(buildMeshModel(objects, mesh))).toEqual(dump(straightforwardMeshModel(objects, mesh)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('gives the same model when a later build reuses what an earlier one built from the same objects', () => {
    const mesh = defaultMeshConfig({ trustDomain: 'example.org' });
    const other = defaultMeshConfig({ trustDomain: 'other.org' });
    const object = fc.oneof(serviceEntry, workloadEntry, workloadEntry);
    fc.assert(
      fc.property(
        fc.array(object, { maxLength: 16 }),
        fc.array(fc.boolean(), { maxLength: 16 }),
        fc.array(object, { maxLength: 6 }),
        fc.boolean(),
        (first, keep, added, switchTrustDomain) => {
          // Some objects stay the very same objects (as in a store), the others are replaced or dropped.
          const before = buildMeshModel(first, mesh);
          const kept = first.filter((_, i) => keep[i] ?? true);
          const second = [...kept, ...added];
          const config = switchTrustDomain ? other : mesh;
          const after = buildMeshModel(second, config);
          expect(dump(after)).toEqual(dump(straightforwardMeshModel(second, config)));
          // Unchanged input, unchanged objects: the same Service objects come back.
          if (!switchTrustDomain && added.length === 0 && kept.length === first.length)
            expect(after.services.every((s, i) => s === before.services[i])).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
