/** Builders for the Kubernetes objects the Kubernetes-source tests put on the API server double. */
import type { FakeObject } from '../../src/sources/kube/testing/fake-kube-api-server.ts';

export const ISTIO_VERSION = 'networking.istio.io/v1beta1';

export function namespaceObject(name: string, labels: Record<string, string> = {}): FakeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function nodeObject(name: string, region: string, zone: string): FakeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'topology.kubernetes.io/region': region, 'topology.kubernetes.io/zone': zone },
    },
  };
}

export function podObject(
  name: string,
  options: { ip: string; node: string; account: string; version: string },
): FakeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'reviews', version: options.version } },
    spec: {
      serviceAccountName: options.account,
      nodeName: options.node,
      containers: [{ name: 'app', image: 'reviews:1' }],
    },
    status: { podIP: options.ip, phase: 'Running' },
  };
}

export function serviceObject(name: string, clusterIP: string, port: number): FakeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      selector: { app: name },
      ports: [{ name: 'http', port, targetPort: port, protocol: 'TCP' }],
    },
  };
}

export interface SliceEndpoint {
  ip: string;
  pod: string;
  ready: boolean;
}

export function endpointSliceObject(
  service: string,
  port: number,
  endpoints: readonly SliceEndpoint[],
): FakeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-abcde`,
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready },
      targetRef: { kind: 'Pod', name: e.pod, namespace: 'default' },
    })),
    ports: [{ name: 'http', port, protocol: 'TCP' }],
  };
}

/** A VirtualService giving `host`'s default route a timeout of `timeout` (e.g. `7s`). */
export function timeoutVirtualService(host: string, timeout: string): FakeObject {
  return {
    apiVersion: ISTIO_VERSION,
    kind: 'VirtualService',
    metadata: { name: host, namespace: 'default' },
    spec: { hosts: [host], http: [{ timeout, route: [{ destination: { host } }] }] },
  };
}
