/**
 * A real HTTPS server speaking the slice of the Kubernetes API the CA uses,
 * for tests that drive the real @kubernetes/client-node against it:
 *
 * - Namespaces: list and watch (`GET /api/v1/namespaces[?watch=true]`).
 * - Secrets and ConfigMaps: GET, POST, PUT per namespace, and list/watch of
 *   ConfigMaps across namespaces with a `metadata.name=` field selector.
 * - TokenReview: `POST /apis/authentication.k8s.io/v1/tokenreviews`, answered
 *   by a table the test provides.
 *
 * Semantics kept: a global resourceVersion; POST of an existing name is 409
 * AlreadyExists; PUT with a stale resourceVersion is 409 Conflict; a missing
 * object is 404; creating in a missing namespace is 404 and in a Terminating
 * one 403. Watches stream newline-delimited events over a chunked response,
 * replay history after the asked resourceVersion, and answer 410 Gone (an
 * ERROR event) when that version was compacted away.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSelfSignedRoot, generateKeyPair, signCertificate } from '@weft/pki';
import { writeTemp } from './ca-harness.ts';

type Kind = 'namespaces' | 'secrets' | 'configmaps';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  version: number;
}

interface Watcher {
  kind: Kind;
  name?: string;
  res: ServerResponse;
}

export interface TokenReviewAnswer {
  username: string;
  audiences?: string[];
}

export interface KubeApiDouble {
  url: string;
  /** A kubeconfig file pointing at this server (its CA, a bearer token). */
  kubeconfig: string;
  /** `METHOD path` of every request, in arrival order. */
  requests: string[];
  /** Every TokenReview body received, with the caller's Authorization header. */
  reviews: { body: { spec: { token: string; audiences?: string[] } }; authorization?: string }[];
  /** Valid tokens and who they are; anything else is not authenticated. */
  tokens: Map<string, TokenReviewAnswer>;
  get(kind: Kind, namespace: string, name: string): KubeObject | undefined;
  /** Creates or replaces an object as another client would (watchers see it). */
  put(kind: Kind, object: KubeObject): KubeObject;
  delete(kind: Kind, namespace: string, name: string): void;
  addNamespace(name: string, phase?: 'Active' | 'Terminating'): void;
  /** Forgets event history, so a watch resuming from an older version gets 410 Gone. */
  compact(): void;
  /** Ends every open watch (clients reconnect from their resourceVersion). */
  dropWatches(): void;
  /** Answers the next `count` requests matching `method` and `path` with `status`. */
  failNext(method: string, path: RegExp, status: number, count?: number): void;
  /** Holds secret creates until `count` have arrived, then handles them in arrival order. */
  holdSecretCreates(count: number): void;
  close(): Promise<void>;
}

const GROUP_KIND: Record<Kind, string> = {
  namespaces: 'Namespace',
  secrets: 'Secret',
  configmaps: 'ConfigMap',
};

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Status', status: 'Failure', message, reason, code });
}

/** Starts the double on an ephemeral loopback port; writes its kubeconfig into `dir`. */
export async function startKubeApiDouble(dir: string, name = 'kubeconfig'): Promise<KubeApiDouble> {
  const apiCa = await createSelfSignedRoot({ subject: { commonName: 'test kube-apiserver CA' } });
  const apiKey = await generateKeyPair({ type: 'ec' });
  const apiCert = signCertificate(apiCa, {
    publicKey: apiKey.publicKeyPem,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    ttlSeconds: 3600,
  });
  let version = 1;
  const store: Record<Kind, Map<string, KubeObject>> = {
    namespaces: new Map(),
    secrets: new Map(),
    configmaps: new Map(),
  };
  const history: WatchEvent[] = [];
  let compactedThrough = 0;
  const watchers = new Set<Watcher>();
  const failures: { method: string; path: RegExp; status: number; left: number }[] = [];
  const requests: string[] = [];
  const tokens = new Map<string, TokenReviewAnswer>();
  const reviews: KubeApiDouble['reviews'] = [];
  let heldCreates: { count: number; waiting: (() => void)[] } | undefined;

  const key = (namespace: string | undefined, objectName: string): string =>
    `${namespace ?? ''}/${objectName}`;

  function emit(kind: Kind, type: WatchEvent['type'], object: KubeObject): void {
    const event: WatchEvent = { type, object: structuredClone(object), version };
    (event.object as KubeObject & { __kind?: Kind }).__kind = kind;
    history.push(event);
    for (const w of watchers) if (matches(w, kind, object)) writeEvent(w.res, event);
  }

  function matches(w: Watcher | { kind: Kind; name?: string }, kind: Kind, object: KubeObject): boolean {
    return w.kind === kind && (w.name === undefined || w.name === object.metadata.name);
  }

  function writeEvent(res: ServerResponse, event: WatchEvent): void {
    const { __kind: _, ...object } = event.object as KubeObject & { __kind?: Kind };
    res.write(`${JSON.stringify({ type: event.type, object })}\n`);
  }

  function put(kind: Kind, object: KubeObject): KubeObject {
    const k = key(object.metadata.namespace, object.metadata.name);
    const existed = store[kind].has(k);
    version += 1;
    const stored: KubeObject = {
      ...structuredClone(object),
      apiVersion: 'v1',
      kind: GROUP_KIND[kind],
      metadata: { ...object.metadata, resourceVersion: String(version) },
    };
    store[kind].set(k, stored);
    emit(kind, existed ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  }

  function remove(kind: Kind, namespace: string, objectName: string): void {
    const k = key(kind === 'namespaces' ? undefined : namespace, objectName);
    const existing = store[kind].get(k);
    if (!existing) return;
    store[kind].delete(k);
    version += 1;
    emit(kind, 'DELETED', {
      ...existing,
      metadata: { ...existing.metadata, resourceVersion: String(version) },
    });
  }

  function send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  function listOrWatch(res: ServerResponse, url: URL, kind: Kind): void {
    const selector = url.searchParams.get('fieldSelector');
    const name = selector?.startsWith('metadata.name=') ? selector.slice('metadata.name='.length) : undefined;
    const filter = { kind, name };
    if (url.searchParams.get('watch') !== 'true') {
      const items = [...store[kind].values()].filter((o) => matches(filter, kind, o));
      send(res, 200, {
        apiVersion: 'v1',
        kind: `${GROUP_KIND[kind]}List`,
        metadata: { resourceVersion: String(version) },
        items,
      });
      return;
    }
    const from = Number(url.searchParams.get('resourceVersion') || version);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (from < compactedThrough) {
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: JSON.parse(statusBody(410, 'Expired', `too old resource version: ${from}`)) })}\n`,
      );
      return;
    }
    for (const event of history) {
      const eventKind = (event.object as { __kind?: Kind }).__kind!;
      if (event.version > from && matches(filter, eventKind, event.object)) writeEvent(res, event);
    }
    const watcher: Watcher = { kind, name, res };
    watchers.add(watcher);
    res.on('close', () => watchers.delete(watcher));
  }

  async function createOrReplace(
    req: IncomingMessage,
    res: ServerResponse,
    kind: Kind,
    namespace: string,
    objectName: string | undefined,
  ): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as KubeObject;
    const ns = store.namespaces.get(key(undefined, namespace));
    if (!ns) return send(res, 404, statusBody(404, 'NotFound', `namespaces "${namespace}" not found`));
    const bodyName = body.metadata?.name;
    const k = key(namespace, objectName ?? bodyName);
    const existing = store[kind].get(k);
    if (req.method === 'POST') {
      if ((ns.status as { phase?: string } | undefined)?.phase === 'Terminating') {
        return send(res, 403, statusBody(403, 'Forbidden', `namespace ${namespace} is being terminated`));
      }
      if (existing) {
        return send(res, 409, statusBody(409, 'AlreadyExists', `${kind} "${bodyName}" already exists`));
      }
    } else {
      if (!existing) return send(res, 404, statusBody(404, 'NotFound', `${kind} "${objectName}" not found`));
      const asked = body.metadata.resourceVersion;
      if (asked && asked !== existing.metadata.resourceVersion) {
        return send(res, 409, statusBody(409, 'Conflict', 'the object has been modified'));
      }
    }
    const stored = put(kind, { ...body, metadata: { ...body.metadata, namespace } });
    send(res, req.method === 'POST' ? 201 : 200, stored);
  }

  async function tokenReview(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as { spec: { token: string; audiences?: string[] } };
    reviews.push({ body, authorization: req.headers.authorization });
    const known = tokens.get(body.spec.token);
    const status = known
      ? {
          authenticated: true,
          user: { username: known.username },
          audiences: known.audiences ?? body.spec.audiences,
        }
      : { authenticated: false, error: 'invalid bearer token' };
    send(res, 201, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: body.spec, status });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://double');
    requests.push(
      `${req.method} ${url.pathname}${url.searchParams.get('watch') === 'true' ? ' (watch)' : ''}`,
    );
    const failure = failures.find((f) => f.left > 0 && f.method === req.method && f.path.test(url.pathname));
    if (failure) {
      failure.left -= 1;
      return send(res, failure.status, statusBody(failure.status, 'InternalError', 'injected failure'));
    }
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'POST' && url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews') {
      return tokenReview(req, res);
    }
    if (parts[0] !== 'api' || parts[1] !== 'v1')
      return send(res, 404, statusBody(404, 'NotFound', 'no such path'));
    const rest = parts.slice(2);
    if (req.method === 'GET' && rest.length === 1 && (rest[0] === 'namespaces' || rest[0] === 'configmaps')) {
      return listOrWatch(res, url, rest[0]);
    }
    if (rest[0] === 'namespaces' && rest.length >= 3 && (rest[2] === 'secrets' || rest[2] === 'configmaps')) {
      const kind = rest[2] as Kind;
      const [, namespace, , objectName] = rest as [string, string, string, string | undefined];
      if (req.method === 'GET' && objectName) {
        const found = store[kind].get(key(namespace, objectName));
        return found
          ? send(res, 200, found)
          : send(res, 404, statusBody(404, 'NotFound', `${kind} "${objectName}" not found`));
      }
      if (req.method === 'POST' && !objectName && kind === 'secrets' && heldCreates) {
        const held = heldCreates;
        await new Promise<void>((resolve) => {
          held.waiting.push(resolve);
          if (held.waiting.length >= held.count) {
            heldCreates = undefined;
            for (const release of held.waiting) release();
          }
        });
      }
      if ((req.method === 'POST' && !objectName) || (req.method === 'PUT' && objectName)) {
        return createOrReplace(req, res, kind, namespace, objectName);
      }
    }
    send(res, 405, statusBody(405, 'MethodNotAllowed', `${req.method} ${url.pathname}`));
  }

  const server: Server = createServer({ key: apiKey.privateKeyPem, cert: apiCert.certPem }, (req, res) => {
    handle(req, res).catch((error: unknown) =>
      send(res, 500, statusBody(500, 'InternalError', String(error))),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = writeTemp(
    dir,
    name,
    `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${url}
    certificate-authority-data: ${Buffer.from(apiCa.certPem).toString('base64')}
users:
- name: weft-ca
  user:
    token: ca-own-credential
contexts:
- name: test
  context: { cluster: test, user: weft-ca }
current-context: test
`,
  );

  return {
    url,
    kubeconfig,
    requests,
    reviews,
    tokens,
    get: (kind, namespace, objectName) =>
      store[kind].get(key(kind === 'namespaces' ? undefined : namespace, objectName)),
    put,
    delete: remove,
    addNamespace: (nsName, phase = 'Active') => {
      put('namespaces', { metadata: { name: nsName }, status: { phase } });
    },
    compact: () => {
      compactedThrough = version;
      history.length = 0;
    },
    dropWatches: () => {
      for (const w of watchers) w.res.end();
      watchers.clear();
    },
    failNext: (method, path, status, count = 1) => {
      failures.push({ method, path, status, left: count });
    },
    holdSecretCreates: (count) => {
      heldCreates = { count, waiting: [] };
    },
    close: async () => {
      for (const w of watchers) w.res.end();
      watchers.clear();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
