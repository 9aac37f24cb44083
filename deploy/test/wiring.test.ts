/**
 * The manifests fit together and follow the house rules: least-privilege
 * RBAC (the exact grants, so a widened rule fails), hardened containers,
 * Services and PodDisruptionBudgets that select real pods, webhooks that
 * reach a real Service port, Istio's ports.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/load-manifests.ts';
import { allRendered, find, ofKind, rows } from './deploy-fixtures.ts';

interface Container {
  name: string;
  image: string;
  ports?: { containerPort: number }[];
  readinessProbe?: unknown;
  resources?: { requests?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
}

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    serviceAccountName?: string;
    securityContext?: { runAsNonRoot?: boolean };
    containers: Container[];
  };
}

const deployments = ofKind('Deployment');
const template = (d: Manifest): PodTemplate => (d.spec as { template: PodTemplate }).template;

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function podsSelectedBy(selector: Record<string, string>, namespace: string | undefined): Manifest[] {
  return deployments.filter(
    (d) => d.metadata.namespace === namespace && selects(selector, template(d).metadata.labels),
  );
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Every grant of a service account as `group/resource[name]:verb` (scope-prefixed). */
function grantsOf(serviceAccount: string): string[] {
  const grants: string[] = [];
  for (const binding of [...ofKind('ClusterRoleBinding'), ...ofKind('RoleBinding')]) {
    const subjects = (binding.subjects as { kind: string; name: string; namespace: string }[]) ?? [];
    if (!subjects.some((s) => s.kind === 'ServiceAccount' && `${s.namespace}/${s.name}` === serviceAccount))
      continue;
    const ref = binding.roleRef as { kind: string; name: string };
    const role = find(ref.kind, ref.name, ref.kind === 'Role' ? binding.metadata.namespace : undefined);
    const scope = ref.kind === 'Role' ? `ns:${role.metadata.namespace}` : 'cluster';
    for (const rule of role.rules as Rule[]) {
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          for (const verb of rule.verbs) {
            const names = rule.resourceNames ? `[${rule.resourceNames.join(',')}]` : '';
            grants.push(`${scope} ${group || 'core'}/${resource}${names}:${verb}`);
          }
        }
      }
    }
  }
  return grants.sort();
}

describe('RBAC: least privilege, exactly', () => {
  it('weft-ca: token reviews, namespaces read, root ConfigMaps, its own Secrets in weft-system only', () => {
    expect(grantsOf('weft-system/weft-ca')).toEqual(
      [
        'cluster authentication.k8s.io/tokenreviews:create',
        'cluster core/configmaps:create',
        'cluster core/configmaps:get',
        'cluster core/configmaps:list',
        'cluster core/configmaps:update',
        'cluster core/configmaps:watch',
        'cluster core/namespaces:get',
        'cluster core/namespaces:list',
        'cluster core/namespaces:watch',
        'ns:weft-system core/secrets:create',
        'ns:weft-system core/secrets:get',
        'ns:weft-system core/secrets:update',
      ].sort(),
    );
  });

  it('weft-discovery: reads the mesh and Istio config, patches only its two webhook configurations', () => {
    const read = (r: string) => ['get', 'list', 'watch'].map((v) => `cluster ${r}:${v}`);
    expect(grantsOf('weft-system/weft-discovery')).toEqual(
      [
        ...read('core/services'),
        ...read('core/pods'),
        ...read('core/namespaces'),
        ...read('core/nodes'),
        ...read('discovery.k8s.io/endpointslices'),
        ...read('networking.istio.io/*'),
        ...read('security.istio.io/*'),
        'cluster admissionregistration.k8s.io/mutatingwebhookconfigurations[weft-sidecar-injector]:get',
        'cluster admissionregistration.k8s.io/mutatingwebhookconfigurations[weft-sidecar-injector]:patch',
        'cluster admissionregistration.k8s.io/validatingwebhookconfigurations[weft-validator]:get',
        'cluster admissionregistration.k8s.io/validatingwebhookconfigurations[weft-validator]:patch',
      ].sort(),
    );
  });

  it('the gateway and bookinfo service accounts have no grants', () => {
    const accounts = ofKind('ServiceAccount').map((sa) => `${sa.metadata.namespace}/${sa.metadata.name}`);
    const privileged = accounts.filter((a) => grantsOf(a).length > 0);
    expect(privileged.sort()).toEqual(['weft-system/weft-ca', 'weft-system/weft-discovery']);
  });

  it('the webhook configurations discovery may patch are the ones deployed', () => {
    expect(ofKind('MutatingWebhookConfiguration').map((m) => m.metadata.name)).toEqual([
      'weft-sidecar-injector',
    ]);
    expect(ofKind('ValidatingWebhookConfiguration').map((m) => m.metadata.name)).toEqual(['weft-validator']);
  });
});

describe('Deployments', () => {
  it.each(rows(deployments))(
    '$name: service account exists, containers hardened, probed and sized',
    ({ manifest }) => {
      const pod = template(manifest);
      expect(pod.spec.serviceAccountName).toBeDefined();
      find('ServiceAccount', pod.spec.serviceAccountName!, manifest.metadata.namespace);
      expect(pod.spec.securityContext?.runAsNonRoot).toBe(true);
      for (const c of pod.spec.containers) {
        expect({ container: c.name, ...c.securityContext }).toMatchObject({
          container: c.name,
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.securityContext?.capabilities?.add).toBeUndefined();
        expect(c.readinessProbe).toBeDefined();
        expect(Object.keys(c.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
        expect(c.image).toMatch(/^weft-(ca|discovery|proxy|bookinfo):dev$/);
      }
    },
  );

  it('every control-plane Deployment has a PodDisruptionBudget selecting it', () => {
    for (const d of deployments.filter((m) => m.metadata.namespace === 'weft-system')) {
      const budgets = ofKind('PodDisruptionBudget').filter(
        (pdb) =>
          pdb.metadata.namespace === 'weft-system' &&
          selects(
            (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
            template(d).metadata.labels,
          ),
      );
      expect({ deployment: d.metadata.name, budgets: budgets.length }).toEqual({
        deployment: d.metadata.name,
        budgets: 1,
      });
    }
  });

  it('bookinfo runs the four services, reviews in three versions, in an injected namespace', () => {
    const bookinfo = deployments
      .filter((d) => d.metadata.namespace === 'bookinfo')
      .map((d) => d.metadata.name);
    expect(bookinfo.sort()).toEqual([
      'details-v1',
      'productpage-v1',
      'ratings-v1',
      'reviews-v1',
      'reviews-v2',
      'reviews-v3',
    ]);
    expect(find('Namespace', 'bookinfo').metadata.labels).toMatchObject({ 'istio-injection': 'enabled' });
    expect(find('Namespace', 'weft-system').metadata.labels).toMatchObject({ 'istio-injection': 'disabled' });
  });
});

describe('Services', () => {
  it.each(rows(ofKind('Service')))('$name selects pods that listen on its target ports', ({ manifest }) => {
    const spec = manifest.spec as { selector: Record<string, string>; ports: { targetPort: number }[] };
    const pods = podsSelectedBy(spec.selector, manifest.metadata.namespace);
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods) {
      const listening = template(pod).spec.containers.flatMap((c) =>
        (c.ports ?? []).map((p) => p.containerPort),
      );
      for (const port of spec.ports) expect(listening).toContain(port.targetPort);
    }
  });

  it("exposes Istio's control-plane ports", () => {
    const ports = ofKind('Service')
      .filter((s) => s.metadata.namespace === 'weft-system')
      .flatMap((s) => (s.spec as { ports: { port: number }[] }).ports.map((p) => p.port));
    expect(ports).toEqual(expect.arrayContaining([15010, 15012, 15014, 15017]));
  });

  it('the bookinfo Gateway selects the ingress gateway pods', () => {
    const gateway = find('Gateway', 'bookinfo-gateway', 'bookinfo');
    const selector = (gateway.spec as { selector: Record<string, string> }).selector;
    const pods = deployments.filter((d) => selects(selector, template(d).metadata.labels));
    expect(pods.map((d) => d.metadata.name)).toEqual(['weft-ingressgateway']);
  });
});

describe('admission webhooks', () => {
  interface Webhook {
    name: string;
    sideEffects: string;
    admissionReviewVersions: string[];
    failurePolicy: string;
    clientConfig: { service: { name: string; namespace: string; path: string; port: number } };
    namespaceSelector?: { matchLabels?: Record<string, string> };
  }
  const webhooks = [
    ...ofKind('MutatingWebhookConfiguration'),
    ...ofKind('ValidatingWebhookConfiguration'),
  ].flatMap((config) =>
    (config.webhooks as Webhook[]).map((webhook) => ({
      name: `${config.kind} ${webhook.name}`,
      config,
      webhook,
    })),
  );

  it.each(webhooks)(
    '$name reaches weft-discovery on 15017 with AdmissionReview v1',
    ({ config, webhook }) => {
      expect(webhook.sideEffects).toBe('None');
      expect(webhook.admissionReviewVersions).toEqual(['v1']);
      const service = find(
        'Service',
        webhook.clientConfig.service.name,
        webhook.clientConfig.service.namespace,
      );
      const port = (service.spec as { ports: { port: number; targetPort: number }[] }).ports.find(
        (p) => p.port === webhook.clientConfig.service.port,
      );
      expect(port?.targetPort).toBe(15017);
      expect(webhook.clientConfig.service.path).toBe(
        config.kind === 'MutatingWebhookConfiguration' ? '/inject' : '/validate',
      );
    },
  );

  it('injection fails closed for namespaces labelled istio-injection=enabled, like Istio', () => {
    const injector = webhooks.find((w) => w.name.includes('namespace.sidecar-injector'))!.webhook;
    expect(injector.failurePolicy).toBe('Fail');
    expect(injector.namespaceSelector?.matchLabels).toEqual({ 'istio-injection': 'enabled' });
  });
});

it('every object in deploy/ is named', () => {
  expect(allRendered.filter((m) => !m.metadata.name)).toEqual([]);
});
