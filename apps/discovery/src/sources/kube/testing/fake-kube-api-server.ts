/**
 * A Kubernetes API server double for tests, speaking the real HTTPS protocol
 * the client library speaks: API discovery (`/apis`, `/apis/GROUP/VERSION`),
 * list with `metadata.resourceVersion`, `?watch=true&resourceVersion=N`
 * answered with a chunked stream of newline-delimited watch events (ADDED,
 * MODIFIED, DELETED, BOOKMARK), `410 Gone` for a compacted resourceVersion
 * (as an HTTP status or as an ERROR event, as real servers do both), item
 * GET/PUT with optimistic concurrency, JSON Patch (with `test`), and
 * bearer-token authentication.
 * Loopback only; nothing here is mocked in the client.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServingCertificate } from '../../../webhook/serving-certificate.ts';

/** One resource the double serves. */
export interface FakeResource {
  /** `''` for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** Core resources the Kubernetes source and the webhooks use. */
export const CORE_RESOURCES: readonly FakeResource[] = [
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false },
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    namespaced: true,
  },
  {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    kind: 'MutatingWebhookConfiguration',
    plural: 'mutatingwebhookconfigurations',
    namespaced: false,
  },
  {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    kind: 'ValidatingWebhookConfiguration',
    plural: 'validatingwebhookconfigurations',
    namespaced: false,
  },
];

export interface FakeKubeApiServerOptions {
  /** Served resources besides `CORE_RESOURCES` (e.g. Istio CRDs at some version). */
  resources?: readonly FakeResource[];
  /** Bearer token every request must carry; default `test-token`. */
  token?: string;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

/** A JSON object with apiVersion, kind and metadata. */
export interface FakeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface FakeKubeApiServer {
  /** `https://127.0.0.1:PORT`. */
  readonly url: string;
  /** PEM of the CA that signed the server's certificate (the kubeconfig carries it). */
  readonly caPem: string;
  readonly token: string;
  /** A kubeconfig (YAML) whose current context points at this server with the token. */
  kubeconfig(): string;
  /** Creates or replaces an object (ADDED or MODIFIED to watchers); returns its new resourceVersion. */
  apply(object: FakeObject): string;
  /** Deletes an object (DELETED to watchers); false when it did not exist. */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean;
  /** The stored object, or undefined. */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): FakeObject | undefined;
  /**
   * Compacts history: every watch resuming from an older resourceVersion gets
   * 410 Gone. `mode` also ends the open watches: `'http'` just closes them
   * (the reconnect then gets HTTP 410), `'event'` first sends an ERROR event
   * with code 410.
   */
  expire(mode: 'http' | 'event'): void;
  /** Sends a BOOKMARK with the current resourceVersion on every open watch. */
  bookmark(): void;
  /** The next `count` requests to `path` (list or watch) fail with `status`. */
  failNext(path: string, status: number, count?: number): void;
  /** Starts serving another resource (as when a CRD is installed); discovery lists it from now on. */
  serve(resource: FakeResource): void;
  /** Number of open watch streams. */
  openWatches(): number;
  /** How many watches were refused with HTTP 410 Gone so far. */
  goneResponses(): number;
  /** Every request received, in order. */
  readonly requests: readonly FakeRequest[];
  close(): Promise<void>;
}

interface Collection {
  resource: FakeResource;
  objects: Map<string, FakeObject>;
  history: { rv: number; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: FakeObject }[];
}

interface OpenWatch {
  collection: Collection;
  res: ServerResponse;
}

function prefixOf(resource: FakeResource): string {
  return resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
}

function apiVersionOf(resource: FakeResource): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
}

/** RFC 6902 add/replace/remove/test on a copy of `document` (enough for what Weft sends). */
function applyJsonPatch(
  document: unknown,
  operations: readonly JsonPatchOp[],
): { ok: true; value: unknown } | { ok: false; message: string } {
  const root = structuredClone(document) as Record<string, unknown>;
  for (const operation of operations) {
    const tokens = operation.path
      .split('/')
      .slice(1)
      .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = tokens.pop();
    let parent: unknown = root;
    for (const token of tokens) parent = (parent as Record<string, unknown> | undefined)?.[token];
    if (typeof parent !== 'object' || parent === null || last === undefined) {
      return { ok: false, message: `path ${operation.path} does not exist` };
    }
    const target = parent as Record<string, unknown>;
    if (operation.op === 'test') {
      if (JSON.stringify(target[last]) !== JSON.stringify(operation.value)) {
        return { ok: false, message: `test failed at ${operation.path}` };
      }
    } else if (operation.op === 'add' || operation.op === 'replace') {
      if (Array.isArray(target) && last === '-') target.push(operation.value);
      else target[last] = operation.value;
    } else if (operation.op === 'remove') {
      delete target[last];
    } else {
      return { ok: false, message: `unsupported op ${operation.op}` };
    }
  }
  return { ok: true, value: root };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the double on 127.0.0.1 and an ephemeral port. */
export async function startFakeKubeApiServer(
  options: FakeKubeApiServerOptions = {},
): Promise<FakeKubeApiServer> {
  const token = options.token ?? 'test-token';
  const resources = [...CORE_RESOURCES, ...(options.resources ?? [])];
  const collections = new Map<string, Collection>();
  for (const resource of resources) {
    collections.set(`${prefixOf(resource)}/${resource.plural}`, {
      resource,
      objects: new Map(),
      history: [],
    });
  }
  let revision = 1;
  let compactedAt = 0;
  let gone = 0;
  const watches = new Set<OpenWatch>();
  const failures = new Map<string, { status: number; count: number }>();
  const requests: FakeRequest[] = [];

  const collectionFor = (apiVersion: string, kind: string): Collection => {
    for (const collection of collections.values()) {
      if (apiVersionOf(collection.resource) === apiVersion && collection.resource.kind === kind)
        return collection;
    }
    throw new Error(`the fake API server does not serve ${apiVersion} ${kind}`);
  };

  const send = (watch: OpenWatch, type: string, object: unknown): void => {
    watch.res.write(`${JSON.stringify({ type, object })}\n`);
  };

  const record = (
    collection: Collection,
    type: 'ADDED' | 'MODIFIED' | 'DELETED',
    object: FakeObject,
  ): void => {
    collection.history.push({ rv: Number(object.metadata.resourceVersion), type, object });
    for (const watch of watches) if (watch.collection === collection) send(watch, type, object);
  };

  const store = (collection: Collection, object: FakeObject): string => {
    const key = keyOf(object.metadata.namespace, object.metadata.name);
    const existed = collection.objects.has(key);
    revision++;
    const stored: FakeObject = structuredClone(object);
    stored.metadata.resourceVersion = String(revision);
    collection.objects.set(key, stored);
    record(collection, existed ? 'MODIFIED' : 'ADDED', stored);
    return stored.metadata.resourceVersion;
  };

  const serveDiscovery = (path: string, res: ServerResponse): boolean => {
    if (path === '/apis') {
      const groups = new Map<string, string[]>();
      for (const r of resources) {
        if (r.group === '') continue;
        const versions = groups.get(r.group) ?? [];
        if (!versions.includes(r.version)) versions.push(r.version);
        groups.set(r.group, versions);
      }
      json(res, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...groups.entries()].map(([name, versions]) => ({
          name,
          versions: versions.map((version) => ({ groupVersion: `${name}/${version}`, version })),
          preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
        })),
      });
      return true;
    }
    const match = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path) ?? /^\/api\/(v1)$/.exec(path);
    if (!match) return false;
    const [group, version] = match.length === 3 ? [match[1], match[2]] : ['', match[1]];
    const served = resources.filter((r) => r.group === group && r.version === version);
    if (served.length === 0) {
      status(res, 404, 'NotFound', `the server could not find the requested resource`);
      return true;
    }
    json(res, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group === '' ? version : `${group}/${version}`,
      resources: served.map((r) => ({
        name: r.plural,
        singularName: r.kind.toLowerCase(),
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
      })),
    });
    return true;
  };

  const serveWatch = (collection: Collection, query: Record<string, string>, res: ServerResponse): void => {
    const from = query.resourceVersion ?? '';
    if (from !== '' && from !== '0' && Number(from) < compactedAt) {
      gone++;
      status(res, 410, 'Expired', `too old resource version: ${from} (${compactedAt})`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const watch: OpenWatch = { collection, res };
    watches.add(watch);
    res.on('close', () => watches.delete(watch));
    if (from === '' || from === '0') {
      for (const object of collection.objects.values()) send(watch, 'ADDED', object);
    } else {
      for (const event of collection.history)
        if (event.rv > Number(from)) send(watch, event.type, event.object);
    }
  };

  const serveItem = async (
    collection: Collection,
    namespace: string | undefined,
    name: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> => {
    const key = keyOf(namespace, name);
    const current = collection.objects.get(key);
    if (req.method === 'GET') {
      if (current) json(res, current);
      else status(res, 404, 'NotFound', `${collection.resource.plural} "${name}" not found`);
      return;
    }
    if (req.method === 'PUT') {
      const body = JSON.parse(await readBody(req)) as FakeObject;
      if (!current) return status(res, 404, 'NotFound', `${collection.resource.plural} "${name}" not found`);
      if (
        body.metadata.resourceVersion !== undefined &&
        body.metadata.resourceVersion !== current.metadata.resourceVersion
      ) {
        return status(
          res,
          409,
          'Conflict',
          'the object has been modified; please apply your changes to the latest version',
        );
      }
      store(collection, {
        ...body,
        metadata: { ...body.metadata, name, ...(namespace ? { namespace } : {}) },
      });
      json(res, collection.objects.get(key));
      return;
    }
    if (req.method === 'PATCH') {
      if (!current) return status(res, 404, 'NotFound', `${collection.resource.plural} "${name}" not found`);
      const contentType = req.headers['content-type'] ?? '';
      if (contentType !== 'application/json-patch+json') {
        return status(
          res,
          415,
          'UnsupportedMediaType',
          `the fake API server takes JSON Patch only, not ${contentType}`,
        );
      }
      const patched = applyJsonPatch(current, JSON.parse(await readBody(req)) as JsonPatchOp[]);
      if (!patched.ok) return status(res, 422, 'Invalid', patched.message);
      store(collection, patched.value as FakeObject);
      json(res, collection.objects.get(key));
      return;
    }
    status(res, 405, 'MethodNotAllowed', `${req.method} is not supported by the fake API server`);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const path = url.pathname;
    requests.push({ method: req.method ?? 'GET', path, query });
    if (req.headers.authorization !== `Bearer ${token}`) {
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const failure = failures.get(path);
    if (failure && failure.count > 0) {
      failure.count--;
      return status(res, failure.status, 'InternalError', 'injected failure');
    }
    if (req.method === 'GET' && serveDiscovery(path, res)) return;
    const collection = collections.get(path);
    if (collection && req.method === 'GET') {
      if (query.watch === 'true' || query.watch === '1') return serveWatch(collection, query, res);
      return json(res, {
        kind: `${collection.resource.kind}List`,
        apiVersion: apiVersionOf(collection.resource),
        metadata: { resourceVersion: String(revision) },
        items: [...collection.objects.values()],
      });
    }
    for (const candidate of collections.values()) {
      const prefix = prefixOf(candidate.resource);
      const { plural, namespaced } = candidate.resource;
      const pattern = namespaced
        ? new RegExp(`^${prefix}/namespaces/([^/]+)/${plural}/([^/]+)$`)
        : new RegExp(`^${prefix}/${plural}/([^/]+)$`);
      const match = pattern.exec(path);
      if (!match) continue;
      const [namespace, name] = namespaced ? [match[1], match[2] ?? ''] : [undefined, match[1] ?? ''];
      return serveItem(candidate, namespace, name, req, res);
    }
    status(res, 404, 'NotFound', 'the server could not find the requested resource');
  };

  const tls = await createServingCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    route(req, res).catch((error: unknown) => {
      status(res, 500, 'InternalError', error instanceof Error ? error.message : String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    caPem: tls.caPem,
    token,
    requests,
    kubeconfig: () =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: fake\n  cluster:\n    server: ${url}\n    certificate-authority-data: ${Buffer.from(tls.caPem).toString('base64')}`,
        'users:',
        `- name: tester\n  user:\n    token: ${token}`,
        'contexts:',
        '- name: fake\n  context:\n    cluster: fake\n    user: tester',
        'current-context: fake',
        '',
      ].join('\n'),
    apply: (object) => store(collectionFor(object.apiVersion, object.kind), object),
    remove: (apiVersion, kind, namespace, name) => {
      const collection = collectionFor(apiVersion, kind);
      const key = keyOf(namespace, name);
      const current = collection.objects.get(key);
      if (!current) return false;
      collection.objects.delete(key);
      revision++;
      record(collection, 'DELETED', {
        ...current,
        metadata: { ...current.metadata, resourceVersion: String(revision) },
      });
      return true;
    },
    get: (apiVersion, kind, namespace, name) =>
      collectionFor(apiVersion, kind).objects.get(keyOf(namespace, name)),
    expire: (mode) => {
      compactedAt = revision + 1;
      for (const collection of collections.values()) collection.history = [];
      for (const watch of [...watches]) {
        if (mode === 'event') {
          send(watch, 'ERROR', {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            message: 'too old resource version',
            reason: 'Expired',
            code: 410,
          });
        }
        watch.res.end();
        watches.delete(watch);
      }
    },
    bookmark: () => {
      for (const watch of watches) {
        send(watch, 'BOOKMARK', {
          kind: watch.collection.resource.kind,
          apiVersion: apiVersionOf(watch.collection.resource),
          metadata: { resourceVersion: String(revision) },
        });
      }
    },
    failNext: (path, code, count = 1) => {
      failures.set(path, { status: code, count });
    },
    serve: (resource) => {
      resources.push(resource);
      collections.set(`${prefixOf(resource)}/${resource.plural}`, {
        resource,
        objects: new Map(),
        history: [],
      });
    },
    openWatches: () => watches.size,
    goneResponses: () => gone,
    close: () =>
      new Promise<void>((resolve) => {
        for (const watch of watches) watch.res.end();
        watches.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
