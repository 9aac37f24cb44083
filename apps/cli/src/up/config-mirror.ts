/**
 * A filtered, live copy of a configuration directory. `weft up` uses it only
 * while weft-proxy has no workload identity: PeerAuthentication,
 * AuthorizationPolicy and RequestAuthentication documents are left out
 * (STRICT mTLS would refuse every plaintext connection) and reported, every
 * other document is copied as written, and a mesh-wide PeerAuthentication
 * DISABLE is added (`weft-up-plaintext.yaml`) so that clients do not
 * originate mTLS (auto mTLS) they have no certificate for. Edits in the source directory are
 * mirrored within `debounceMs`, so editing the YAML still changes traffic.
 */
import { type FSWatcher, watch } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

/** Kinds that need workload identities (mTLS, peer principals). */
export const IDENTITY_KINDS = ['PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication'] as const;

const KIND_LINE = /^kind:\s*["']?([A-Za-z]+)["']?\s*$/m;
const NAME_LINE = /^ {2}name:\s*["']?([^"'\s#]+)/m;

/** The file the mirror adds: mesh-wide plaintext, said in Istio's own terms. */
export const PLAINTEXT_FILE = 'weft-up-plaintext.yaml';
const PLAINTEXT_YAML = `# Written by weft up: weft-proxy has no workload identity yet, so the mesh runs
# plaintext. The source directory's PeerAuthentication, AuthorizationPolicy and
# RequestAuthentication documents are left out of this copy.
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: DISABLE
`;

export interface MirrorResult {
  /** `Kind name (file)` of each left-out document. */
  readonly leftOut: readonly string[];
}

/** Splits YAML text into documents on `---` lines (keeping each document's text). */
function documents(text: string): string[] {
  return text.split(/^---[ \t]*$/m);
}

/** The text with identity documents removed, and what was removed. */
export function filterIdentityDocuments(text: string, file: string): { text: string; leftOut: string[] } {
  const kept: string[] = [];
  const leftOut: string[] = [];
  for (const doc of documents(text)) {
    const kind = KIND_LINE.exec(doc)?.[1];
    if (kind && (IDENTITY_KINDS as readonly string[]).includes(kind)) {
      leftOut.push(`${kind} ${NAME_LINE.exec(doc)?.[1] ?? '?'} (${file})`);
      continue;
    }
    kept.push(doc);
  }
  return { text: kept.join('---\n'), leftOut };
}

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Copies `source` to `target` once (target emptied first), filtered. */
export async function mirrorOnce(source: string, target: string): Promise<MirrorResult> {
  const leftOut: string[] = [];
  const staging = `${target}.next`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  for (const file of await yamlFiles(source)) {
    const rel = relative(source, file);
    const filtered = filterIdentityDocuments(await readFile(file, 'utf8'), rel);
    leftOut.push(...filtered.leftOut);
    await mkdir(dirname(join(staging, rel)), { recursive: true });
    await writeFile(join(staging, rel), filtered.text);
  }
  await writeFile(join(staging, PLAINTEXT_FILE), PLAINTEXT_YAML);
  // Replace file by file so the watcher on `target` sees edits, not a directory swap.
  await mkdir(target, { recursive: true });
  const wanted = new Set((await yamlFiles(staging)).map((f) => relative(staging, f)));
  for (const old of await yamlFiles(target)) {
    if (!wanted.has(relative(target, old))) await rm(old, { force: true });
  }
  for (const rel of wanted) {
    const next = await readFile(join(staging, rel), 'utf8');
    const current = await readFile(join(target, rel), 'utf8').catch(() => undefined);
    if (current === next) continue;
    await mkdir(dirname(join(target, rel)), { recursive: true });
    await writeFile(join(target, rel), next);
  }
  await rm(staging, { recursive: true, force: true });
  return { leftOut };
}

export interface ConfigMirror {
  readonly first: MirrorResult;
  close(): void;
}

/** Mirrors now and on every change; `onError` gets failures of later copies (the last copy stays). */
export async function startConfigMirror(
  source: string,
  target: string,
  onError: (error: Error) => void,
  debounceMs = 50,
): Promise<ConfigMirror> {
  const first = await mirrorOnce(source, target);
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  const watcher: FSWatcher = watch(source, { recursive: true }, () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(() => mirrorOnce(source, target).then(() => undefined, onError));
    }, debounceMs);
  });
  watcher.on('error', onError);
  return {
    first,
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
