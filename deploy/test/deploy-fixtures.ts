/**
 * The deploy/ tree as the tests see it: every YAML file, and the objects
 * each kustomization renders (what `kubectl apply -k` sends).
 */
import { join, relative } from 'node:path';
import { describeManifest, listYaml, type Manifest, renderKustomization } from '../src/load-manifests.ts';

export const DEPLOY_DIR = join(import.meta.dirname, '..');

/** The kustomizations `kubectl apply -k` takes, relative to deploy/. */
export const KUSTOMIZATIONS = ['kubernetes', 'examples/bookinfo'] as const;

/** YAML under deploy/ that is not a Kubernetes manifest (tool configuration). */
export const NOT_MANIFESTS = new Set(['kind/kind-config.yaml']);

export function render(dir: (typeof KUSTOMIZATIONS)[number]) {
  return renderKustomization(join(DEPLOY_DIR, dir), DEPLOY_DIR);
}

export const rendered = Object.fromEntries(KUSTOMIZATIONS.map((dir) => [dir, render(dir)])) as Record<
  (typeof KUSTOMIZATIONS)[number],
  ReturnType<typeof render>
>;

export const allRendered: Manifest[] = KUSTOMIZATIONS.flatMap((dir) => rendered[dir].manifests);

export function yamlFiles(): string[] {
  return listYaml(DEPLOY_DIR).map((path) => relative(DEPLOY_DIR, path));
}

export function find(kind: string, name: string, namespace?: string): Manifest {
  const found = allRendered.find(
    (m) =>
      m.kind === kind &&
      m.metadata.name === name &&
      (namespace === undefined || m.metadata.namespace === namespace),
  );
  if (!found) throw new Error(`no ${kind} ${namespace ?? '*'}/${name} in deploy/`);
  return found;
}

export function ofKind(kind: string): Manifest[] {
  return allRendered.filter((m) => m.kind === kind);
}

/** `it.each` rows: a test name and the manifest. */
export function rows(manifests: Manifest[]): { name: string; manifest: Manifest }[] {
  return manifests.map((manifest) => ({ name: `${manifest.file}: ${describeManifest(manifest)}`, manifest }));
}
