/**
 * Reads the manifests under deploy/: every YAML document with its file, and
 * the objects a kustomization renders — the subset of kustomize these files
 * use (`resources`, `namespace`, `labels` with `includeSelectors: false`,
 * `images` with `newTag`), so tests see what `kubectl apply -k` applies
 * without kubectl. A kustomization field outside that subset is a problem,
 * not silently ignored.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  /** Path relative to the deploy/ folder. */
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ManifestProblem {
  file: string;
  message: string;
}

export interface LoadResult {
  manifests: Manifest[];
  problems: ManifestProblem[];
}

/** Every `*.yaml` file below `dir`, sorted. */
export function listYaml(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : listYaml(path);
      return entry.endsWith('.yaml') || entry.endsWith('.yml') ? [path] : [];
    });
}

/** Parses one file's documents; YAML errors and documents without apiVersion/kind are problems. */
export function loadFile(path: string, root: string): LoadResult {
  const file = relative(root, path);
  const manifests: Manifest[] = [];
  const problems: ManifestProblem[] = [];
  for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
    for (const error of doc.errors) problems.push({ file, message: error.message });
    if (doc.errors.length > 0) continue;
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const object = value as Partial<Manifest>;
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
      problems.push({ file, message: 'a document without apiVersion and kind' });
      continue;
    }
    manifests.push({ ...object, metadata: object.metadata ?? {}, file } as Manifest);
  }
  return { manifests, problems };
}

const KUSTOMIZE_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images']);

interface Kustomization {
  resources?: string[];
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean }[];
  images?: { name: string; newTag?: string; newName?: string }[];
}

function withImage(image: string, images: Kustomization['images']): string {
  const [name, tag] = image.split(':') as [string, string | undefined];
  const rule = images?.find((i) => i.name === name);
  if (!rule) return image;
  const newTag = rule.newTag ?? tag;
  return `${rule.newName ?? name}${newTag ? `:${newTag}` : ''}`;
}

interface PodSpecLike {
  containers?: { image?: string }[];
  initContainers?: { image?: string }[];
}

function setImages(manifest: Manifest, images: Kustomization['images']): void {
  const podSpec = (manifest.spec as { template?: { spec?: PodSpecLike } } | undefined)?.template?.spec;
  for (const container of [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])]) {
    if (container.image) container.image = withImage(container.image, images);
  }
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
]);

/**
 * Renders the kustomization in `dir` (a folder holding kustomization.yaml)
 * the way `kubectl kustomize` does for the supported fields.
 */
export function renderKustomization(dir: string, root: string): LoadResult {
  const path = join(dir, 'kustomization.yaml');
  const file = relative(root, path);
  const problems: ManifestProblem[] = [];
  const k = loadFile(path, root);
  problems.push(...k.problems);
  const spec = k.manifests[0] as unknown as Kustomization & Record<string, unknown>;
  if (!spec) return { manifests: [], problems: [...problems, { file, message: 'empty kustomization' }] };
  for (const field of Object.keys(spec)) {
    if (!KUSTOMIZE_FIELDS.has(field) && field !== 'file' && field !== 'metadata') {
      problems.push({ file, message: `kustomization field ${field} is not supported by this renderer` });
    }
  }
  const manifests: Manifest[] = [];
  for (const resource of spec.resources ?? []) {
    const target = join(dirname(path), resource);
    let loaded: LoadResult;
    try {
      loaded = statSync(target).isDirectory() ? renderKustomization(target, root) : loadFile(target, root);
    } catch (error) {
      problems.push({ file, message: `resource ${resource}: ${(error as Error).message}` });
      continue;
    }
    problems.push(...loaded.problems);
    manifests.push(...loaded.manifests);
  }
  for (const manifest of manifests) {
    if (spec.namespace) {
      if (manifest.kind === 'Namespace') manifest.metadata.name = spec.namespace;
      else if (!CLUSTER_SCOPED.has(manifest.kind)) manifest.metadata.namespace = spec.namespace;
    }
    for (const label of spec.labels ?? []) {
      if (label.includeSelectors)
        problems.push({ file, message: 'labels.includeSelectors is not supported' });
      manifest.metadata.labels = { ...manifest.metadata.labels, ...label.pairs };
    }
    setImages(manifest, spec.images);
  }
  return { manifests, problems };
}

/** `Kind namespace/name` for test names and messages. */
export function describeManifest(m: Manifest): string {
  return `${m.kind} ${m.metadata.namespace ? `${m.metadata.namespace}/` : ''}${m.metadata.name ?? '(no name)'}`;
}
