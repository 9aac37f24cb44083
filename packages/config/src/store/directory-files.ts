/**
 * The files of a config directory with what each last contributed: its
 * content hash, its objects (with last good versions kept) and its problems.
 * A file is parsed only when its bytes changed, so a change to one file
 * costs one read and one parse, whatever the size of the directory.
 */
import { hash } from 'node:crypto';
import { lstat, readFile, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { listYamlFiles } from '../loading/load-config-paths.ts';
import { type DetailedParseResult, parseConfigYamlDetailed } from '../loading/parse-config-yaml.ts';
import type { ConfigObject } from '../resources/resource-types.ts';
import type { Problem } from '../validation/problem.ts';
import { configKey } from './config-store.ts';

const YAML_FILE = /\.ya?ml$/;

/** How the directory is read; tests pass counting versions. */
export interface DirectoryIo {
  readFile(path: string): Promise<string>;
  parse(text: string, file: string): DetailedParseResult;
}

export const defaultDirectoryIo: DirectoryIo = {
  readFile: (path) => readFile(path, 'utf8'),
  parse: parseConfigYamlDetailed,
};

interface FileState {
  /** Hash of the bytes last parsed; '' after a failed read, so the next read parses. */
  fingerprint: string;
  objects: readonly ConfigObject[];
  problems: readonly Problem[];
}

/**
 * Per-file state of one directory. `rescan` lists the whole tree;
 * `refresh` looks only at the paths a watcher named. Both re-read the files
 * they look at but parse only those whose bytes changed. Not safe to call
 * concurrently: the directory source runs one reload at a time.
 */
export interface DirectoryFiles {
  /**
   * Lists the directory (recursively, as `listYamlFiles`): files no longer
   * listed are dropped, the others loaded. Rejects, changing nothing, when
   * the directory itself cannot be listed.
   */
  rescan(): Promise<void>;
  /**
   * Looks at `paths` (relative to the directory, as `fs.watch` names them):
   * a YAML file is loaded, a directory rescanned, a path that no longer
   * exists drops every file at or under it. Paths with a hidden segment
   * (editor swap files, a ConfigMap mount's `..data` swap) can change what
   * visible symlinks point at, so they make it a full `rescan`.
   */
  refresh(paths: Iterable<string>): Promise<void>;
  /** Every file's objects, files in path order (the first definition of a key wins downstream). */
  objects(): ConfigObject[];
  /** Every file's problems (read and parse), files in path order. */
  problems(): Problem[];
}

function keyOf(object: ConfigObject): string {
  return configKey(object.kind, object.metadata.namespace, object.metadata.name);
}

/**
 * The objects a file contributes after a reload, keeping the last good
 * version of objects that are now invalid: when the file could not be read
 * completely (YAML errors, a document without kind or name) every previous
 * object not re-read stays; otherwise only previous objects that are now
 * invalid stay, and valid objects that disappeared are dropped.
 */
export function mergeFileObjects(
  previous: readonly ConfigObject[],
  parsed: {
    objects: readonly ConfigObject[];
    rejected: readonly { kind: string; namespace: string; name: string }[];
    incomplete: boolean;
  },
): ConfigObject[] {
  const fresh = new Set(parsed.objects.map(keyOf));
  const rejected = new Set(parsed.rejected.map((r) => configKey(r.kind, r.namespace, r.name)));
  const kept = previous.filter((o) => !fresh.has(keyOf(o)) && (parsed.incomplete || rejected.has(keyOf(o))));
  return [...parsed.objects, ...kept];
}

function errorCode(err: unknown): unknown {
  return (err as { code?: unknown }).code;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** True for a path that no longer exists (or whose parent became a file). */
function isGone(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function createDirectoryFiles(dir: string, io: DirectoryIo = defaultDirectoryIo): DirectoryFiles {
  const byFile = new Map<string, FileState>();
  /** Sorted file paths, recomputed only when the set of files changes. */
  let order: string[] | undefined;

  function drop(file: string): void {
    if (byFile.delete(file)) order = undefined;
  }

  /** Drops every tracked file under `prefix` (a directory path ending in the separator) that `keep` does not hold. */
  function dropUnder(prefix: string, keep: ReadonlySet<string> = new Set()): void {
    for (const file of [...byFile.keys()]) if (file.startsWith(prefix) && !keep.has(file)) drop(file);
  }

  async function load(file: string): Promise<void> {
    let text: string;
    try {
      text = await io.readFile(file);
    } catch (err) {
      if (isGone(err)) {
        drop(file);
        return;
      }
      // Unreadable (permissions, a directory now): keep its objects, report, retry on the next read.
      const previous = byFile.get(file);
      if (!previous) order = undefined;
      byFile.set(file, {
        fingerprint: '',
        objects: previous?.objects ?? [],
        problems: [{ severity: 'error', path: '', message: `${file}: cannot read: ${messageOf(err)}` }],
      });
      return;
    }
    const fingerprint = hash('sha256', text, 'base64');
    const previous = byFile.get(file);
    if (previous?.fingerprint === fingerprint) return;
    const parsed = io.parse(text, file);
    if (!previous) order = undefined;
    byFile.set(file, {
      fingerprint,
      objects: mergeFileObjects(previous?.objects ?? [], parsed),
      problems: parsed.problems,
    });
  }

  /** Lists `root` and loads what is there; files under `root` no longer listed are dropped. */
  async function scan(root: string): Promise<void> {
    const listed = await listYamlFiles(root);
    dropUnder(root === dir ? '' : `${root}${sep}`, new Set(listed));
    for (const file of listed) await load(file);
  }

  /** One path a watcher named, relative to `dir`. Returns false when only a full rescan can tell. */
  async function refreshPath(relative: string): Promise<boolean> {
    if (relative === '' || relative === '.') return false;
    const segments = relative.split(sep);
    if (segments.some((s) => s.startsWith('.'))) return false;
    const path = join(dir, relative);
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(path);
    } catch (err) {
      if (!isGone(err)) return false;
      drop(path);
      dropUnder(`${path}${sep}`);
      return true;
    }
    if (info.isDirectory()) {
      try {
        await scan(path);
      } catch (err) {
        if (!isGone(err)) return false;
        dropUnder(`${path}${sep}`);
      }
      return true;
    }
    // Not a directory (any more): nothing can be under it.
    dropUnder(`${path}${sep}`);
    if (!YAML_FILE.test(basename(path))) return true;
    // As listYamlFiles: regular files, and symlinks that resolve to a file.
    const isFile =
      info.isFile() ||
      (info.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile() === true);
    if (isFile) await load(path);
    else drop(path);
    return true;
  }

  function sorted(): string[] {
    order ??= [...byFile.keys()].sort();
    return order;
  }

  return {
    rescan: () => scan(dir),
    async refresh(paths) {
      for (const relative of new Set(paths)) {
        if (!(await refreshPath(relative))) {
          await scan(dir);
          return;
        }
      }
    },
    objects: () => sorted().flatMap((file) => byFile.get(file)?.objects ?? []),
    problems: () => sorted().flatMap((file) => byFile.get(file)?.problems ?? []),
  };
}
