/**
 * The admission webhooks over real HTTPS: AdmissionReview JSON in, the
 * returned JSONPatch applied with fast-json-patch, the patched pod validated
 * against the Kubernetes Pod schema (kubernetes-models). The serving CA is
 * read back from the webhook configuration's caBundle the process wrote into
 * a Kubernetes API server double, and the client checks the DNS SAN.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '@weft/telemetry';
import jsonPatch from 'fast-json-patch';
import { Pod } from 'kubernetes-models/v1/Pod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeKubeApiServer,
  startFakeKubeApiServer,
} from '../../src/sources/kube/testing/fake-kube-api-server.ts';
import {
  type AdmissionWebhooks,
  startAdmissionWebhooks,
} from '../../src/webhook/start-admission-webhooks.ts';
import { waitFor } from '../e2e/fixtures/mesh-config.ts';
import { admissionReview, postToWebhook } from './webhook-client.ts';

const SERVICE_DNS = 'weft-discovery.weft-system.svc';
const POD_KIND = { group: '', version: 'v1', kind: 'Pod' };
const VS_KIND = { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' };

interface PodLike {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    containers: { name: string; image: string; args?: string[] }[];
    initContainers?: { name: string; image: string; args?: string[] }[];
    volumes?: { name: string; [field: string]: unknown }[];
  };
}

function pod(
  name: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): PodLike {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...extra },
    spec: { containers: [{ name: 'app', image: 'example/app:1' }] },
  };
}

function webhookConfig(
  kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration',
  name: string,
  path: string,
) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name },
    webhooks: [
      {
        name: `${path.slice(1)}.weft.io`,
        clientConfig: { service: { name: 'weft-discovery', namespace: 'weft-system', path, port: 443 } },
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
      },
    ],
  };
}

interface ReviewResponse {
  response: {
    uid: string;
    allowed: boolean;
    patchType?: string;
    patch?: string;
    status?: { message: string };
    warnings?: string[];
  };
}

describe('the admission webhooks over HTTPS', () => {
  let api: FakeKubeApiServer;
  let webhooks: AdmissionWebhooks;
  let caPem: string;
  let uid = 0;

  beforeAll(async () => {
    api = await startFakeKubeApiServer();
    for (const [name, labels] of [
      ['injected', { 'istio-injection': 'enabled' }],
      ['off', { 'istio-injection': 'disabled' }],
      ['plain', {}],
    ] as const) {
      api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    }
    api.apply(webhookConfig('MutatingWebhookConfiguration', 'weft-sidecar-injector', '/inject'));
    api.apply(webhookConfig('ValidatingWebhookConfiguration', 'weft-validator', '/validate'));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(api.kubeconfig());
    webhooks = await startAdmissionWebhooks({
      address: { host: '127.0.0.1', port: 0 },
      dnsNames: [SERVICE_DNS],
      template: {
        proxyImage: 'weft-proxy:test',
        discoveryAddress: 'weft-discovery.weft-system.svc:15010',
        caAddress: 'weft-ca.weft-system.svc:15012',
      },
      kubeConfig,
      logger: createLogger({ name: 'webhook-test', level: 'error', write: () => {} }),
    });
    // The namespace informer has listed once its watch is open.
    await waitFor('the namespace watch', () =>
      api.requests.some((r) => r.path === '/api/v1/namespaces' && r.query.watch === 'true'),
    );
    const stored = api.get(
      'admissionregistration.k8s.io/v1',
      'MutatingWebhookConfiguration',
      undefined,
      'weft-sidecar-injector',
    ) as { webhooks: { clientConfig: { caBundle?: string } }[] } | undefined;
    caPem = Buffer.from(stored?.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8');
  });

  afterAll(async () => {
    await webhooks?.close();
    await api?.close();
  });

  const post = (path: string, body: string, contentType?: string) =>
    postToWebhook(webhooks.address, path, body, {
      caPem,
      serverName: SERVICE_DNS,
      ...(contentType ? { contentType } : {}),
    });

  async function review(
    path: string,
    object: unknown,
    namespace: string,
    kind = POD_KIND,
    operation = 'CREATE',
  ) {
    uid++;
    const reply = await post(
      path,
      admissionReview(object, { uid: `uid-${uid}`, kind, namespace, operation }),
    );
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.text) as ReviewResponse & { apiVersion: string; kind: string };
    expect(body).toMatchObject({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: `uid-${uid}` },
    });
    return body.response;
  }

  function applyPatch(object: PodLike, patch: string | undefined): PodLike {
    if (patch === undefined) return object;
    const operations = JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as jsonPatch.Operation[];
    return jsonPatch.applyPatch(structuredClone(object), operations, true, false).newDocument;
  }

  it('wrote the serving CA into both webhook configurations', () => {
    expect(caPem).toBe(webhooks.caPem);
    const validating = api.get(
      'admissionregistration.k8s.io/v1',
      'ValidatingWebhookConfiguration',
      undefined,
      'weft-validator',
    ) as { webhooks: { clientConfig: { caBundle?: string } }[] } | undefined;
    expect(validating?.webhooks[0]?.clientConfig.caBundle).toBe(
      Buffer.from(webhooks.caPem).toString('base64'),
    );
    expect(webhooks.caBundleSync?.patched).toHaveLength(2);
  });

  it('lets a second replica add its own CA to the bundle, so both replicas are trusted', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(api.kubeconfig());
    const second = await startAdmissionWebhooks({
      address: { host: '127.0.0.1', port: 0 },
      dnsNames: [SERVICE_DNS],
      template: { proxyImage: 'weft-proxy:test', discoveryAddress: 'd:15010', caAddress: 'c:15012' },
      kubeConfig,
    });
    try {
      expect(second.caBundleSync?.patched).toHaveLength(2);
      expect(api.requests.filter((r) => r.method === 'PATCH').length).toBeGreaterThanOrEqual(4);
      const stored = api.get(
        'admissionregistration.k8s.io/v1',
        'MutatingWebhookConfiguration',
        undefined,
        'weft-sidecar-injector',
      ) as unknown as { webhooks: { clientConfig: { caBundle: string } }[] };
      const bundle = Buffer.from(stored.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8');
      for (const address of [webhooks.address, second.address]) {
        uid++;
        const reply = await postToWebhook(
          address,
          '/inject',
          admissionReview(pod('r'), { uid: `uid-${uid}`, kind: POD_KIND, namespace: 'plain' }),
          { caPem: bundle, serverName: SERVICE_DNS },
        );
        expect(reply.status).toBe(200);
      }
    } finally {
      await second.close();
    }
  });

  it.each([
    { name: 'a pod in a namespace labelled istio-injection=enabled', namespace: 'injected', pod: pod('a') },
    {
      name: 'a pod annotated sidecar.istio.io/inject: "true"',
      namespace: 'plain',
      pod: pod('b', { annotations: { 'sidecar.istio.io/inject': 'true' } }),
    },
    {
      name: 'a pod labelled sidecar.istio.io/inject: "true"',
      namespace: 'plain',
      pod: pod('c', { labels: { 'sidecar.istio.io/inject': 'true' } }),
    },
    {
      name: 'a pod with init containers, volumes and annotations of its own',
      namespace: 'injected',
      pod: {
        ...pod('d', { annotations: { team: 'a' }, labels: { app: 'd' } }),
        spec: {
          initContainers: [{ name: 'migrate', image: 'example/migrate:1' }],
          containers: [{ name: 'app', image: 'example/app:1' }],
          volumes: [{ name: 'data', emptyDir: {} }],
        },
      } as PodLike,
    },
  ])(
    'injects $name; the patched pod is a valid Pod and injecting again changes nothing',
    async ({ namespace, pod: input }) => {
      const response = await review('/inject', input, namespace);
      expect(response.allowed).toBe(true);
      expect(response.patchType).toBe('JSONPatch');
      const patched = applyPatch(input, response.patch);
      expect(() =>
        new Pod(patched as unknown as ConstructorParameters<typeof Pod>[0]).validate(),
      ).not.toThrow();
      expect(patched.spec.containers.map((c) => c.name)).toEqual([
        ...input.spec.containers.map((c) => c.name),
        'weft-proxy',
      ]);
      expect(patched.spec.initContainers?.[0]?.name, 'capture rules first').toBe('weft-init');
      expect(patched.spec.initContainers?.slice(1)).toEqual(input.spec.initContainers ?? []);
      expect(patched.spec.volumes?.map((v) => v.name)).toEqual([
        ...(input.spec.volumes ?? []).map((v) => v.name),
        'istio-token',
        'istiod-ca-cert',
      ]);
      expect(patched.metadata.annotations?.['sidecar.istio.io/status']).toContain('weft-proxy');
      expect(patched.metadata.labels?.['security.istio.io/tlsMode']).toBe('istio');
      for (const [key, value] of Object.entries(input.metadata.annotations ?? {}))
        expect(patched.metadata.annotations?.[key]).toBe(value);

      const again = await review('/inject', patched, namespace);
      expect(again).toEqual({ uid: again.uid, allowed: true });
    },
  );

  it('builds the sidecar as the contract says (UID 1337, probe, token audience, capture exclusions)', async () => {
    const input = pod('e', {
      annotations: {
        'traffic.sidecar.istio.io/excludeInboundPorts': '9000, 9001',
        'traffic.sidecar.istio.io/excludeOutboundPorts': '5432',
        'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8',
        'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.96.0.1/32,fd00::/8',
      },
    });
    const patched = applyPatch(input, (await review('/inject', input, 'injected')).patch) as unknown as {
      spec: {
        containers: Record<string, unknown>[];
        initContainers: { args: string[]; securityContext: unknown }[];
        volumes: Record<string, unknown>[];
      };
    };
    const proxy = patched.spec.containers.find((c) => c.name === 'weft-proxy');
    expect(proxy).toMatchObject({
      image: 'weft-proxy:test',
      securityContext: { runAsUser: 1337, runAsGroup: 1337 },
      readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 } },
      resources: { requests: { cpu: '100m', memory: '128Mi' } },
    });
    const args = proxy?.args as string[];
    expect(args.slice(args.indexOf('--discovery'), args.indexOf('--discovery') + 2)).toEqual([
      '--discovery',
      'weft-discovery.weft-system.svc:15010',
    ]);
    expect(args).toContain('--ca-addr');
    expect(((proxy?.env ?? []) as { name: string }[]).map((e) => e.name)).toEqual([
      'POD_NAME',
      'POD_NAMESPACE',
      'INSTANCE_IP',
      'SERVICE_ACCOUNT',
    ]);
    expect(patched.spec.volumes).toContainEqual({
      name: 'istio-token',
      projected: {
        sources: [
          { serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } },
        ],
      },
    });
    expect(patched.spec.volumes).toContainEqual({
      name: 'istiod-ca-cert',
      configMap: { name: 'istio-ca-root-cert' },
    });
    const init = patched.spec.initContainers[0];
    expect(init?.securityContext).toMatchObject({
      runAsUser: 0,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'] },
    });
    const flag = (name: string) => init?.args[(init?.args.indexOf(name) ?? -2) + 1];
    expect(init?.args[0]).toBe('iptables');
    expect(flag('--exclude-inbound-ports')).toBe('15090,15021,15020,9000,9001');
    expect(flag('--exclude-outbound-ports')).toBe('5432');
    expect(flag('--include-outbound-cidrs')).toBe('10.0.0.0/8');
    expect(flag('--exclude-outbound-cidrs'), 'capture is IPv4 only').toBe('10.96.0.1/32');
    expect(flag('--inbound-port')).toBe('15006');
    expect(flag('--outbound-port')).toBe('15001');
    expect(flag('--proxy-uid')).toBe('1337');
  });

  it.each([
    {
      name: 'a pod opting out in an injected namespace',
      namespace: 'injected',
      pod: pod('f', { labels: { 'sidecar.istio.io/inject': 'false' } }),
    },
    {
      name: 'a pod opting in inside a disabled namespace',
      namespace: 'off',
      pod: pod('g', { annotations: { 'sidecar.istio.io/inject': 'true' } }),
    },
    { name: 'a pod in a namespace without the label', namespace: 'plain', pod: pod('h') },
    { name: 'a pod in a namespace the API server does not know', namespace: 'ghost', pod: pod('i') },
    {
      name: 'a host-network pod',
      namespace: 'injected',
      pod: { ...pod('j'), spec: { hostNetwork: true, containers: [{ name: 'app', image: 'x' }] } },
    },
  ])('leaves $name alone', async ({ namespace, pod: input }) => {
    const response = await review('/inject', input, namespace);
    expect(response).toEqual({ uid: response.uid, allowed: true });
  });

  it('reads namespace labels from its watch cache, following label changes', async () => {
    api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'flip', labels: {} } });
    await waitFor(
      'the flip namespace in the cache',
      async () => (await review('/inject', pod('l'), 'flip')).patch === undefined,
    );
    api.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'flip', labels: { 'istio-injection': 'enabled' } },
    });
    await waitFor(
      'injection after the label change',
      async () => (await review('/inject', pod('m'), 'flip')).patch !== undefined,
    );
    const gets = api.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/v1/namespaces/'));
    expect(gets.map((r) => r.path)).not.toContain('/api/v1/namespaces/injected');
  });

  it('admits a pod with unusable capture annotations unchanged, with a warning naming the annotation', async () => {
    const input = pod('k', { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '80,http' } });
    const response = await review('/inject', input, 'injected');
    expect(response.allowed).toBe(true);
    expect(response.patch).toBeUndefined();
    expect(response.warnings).toEqual([
      'weft sidecar not injected: metadata.annotations["traffic.sidecar.istio.io/excludeInboundPorts"]: "http" is not a port from 1 to 65535',
    ]);
  });

  it.each([
    {
      name: 'a body that is not JSON',
      body: '{"apiVersion":',
      contentType: undefined,
      message: 'body is not JSON',
    },
    {
      name: 'a review without a request',
      body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      contentType: undefined,
      message: 'request: required object',
    },
    {
      name: 'a v1beta1 review',
      body: JSON.stringify({
        apiVersion: 'admission.k8s.io/v1beta1',
        kind: 'AdmissionReview',
        request: { uid: 'x', kind: POD_KIND, operation: 'CREATE' },
      }),
      contentType: undefined,
      message: 'apiVersion: expected "admission.k8s.io/v1"',
    },
    {
      name: 'a non-JSON content type',
      body: '{}',
      contentType: 'text/plain',
      message: 'content-type must be application/json',
    },
  ])('answers 400 to $name and keeps serving', async ({ body, contentType, message }) => {
    const reply = await post('/inject', body, contentType);
    expect(reply.status).toBe(400);
    expect(reply.text).toContain(message);
    const response = await review('/inject', pod('after'), 'plain');
    expect(response.allowed).toBe(true);
  });

  describe('validation', () => {
    const virtualService = (timeout: string) => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews' },
      spec: { hosts: ['reviews'], http: [{ timeout, route: [{ destination: { host: 'reviews' } }] }] },
    });

    it('admits a valid VirtualService', async () => {
      const response = await review('/validate', virtualService('2s'), 'default', VS_KIND);
      expect(response.allowed).toBe(true);
    });

    it("rejects an invalid VirtualService with @weft/config's message", async () => {
      const response = await review('/validate', virtualService('soon'), 'default', VS_KIND);
      expect(response.allowed).toBe(false);
      expect(response.status?.message).toBe(
        'VirtualService default/reviews: spec.http[0].timeout: invalid duration "soon": use a number with a unit (ms, s, m, h), e.g. "1.5s"',
      );
    });

    it('admits a DELETE', async () => {
      const response = await review('/validate', null, 'default', VS_KIND, 'DELETE');
      expect(response.allowed).toBe(true);
    });
  });
});
