/**
 * A directory of Istio YAML feeding a ConfigStore, reloaded when files change.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { listYamlFiles } from '../loading/load-config-paths.ts';
import { parseConfigYamlDetailed } from '../loading/parse-config-yaml.ts';
import type { ConfigObject } from '../resources/resource-types.ts';
import type { Problem } from '../validation/problem.ts';
import { validateReferences } from '../validation/validate-references.ts';
import { configKey } from './config-store.ts';
import type { DirectorySource, DirectorySourceOptions } from './store-types.ts';

/** A directory source could not start. `code` is stable; `cause` is the file-system error. */
export class ConfigSourceError extends Error {
  readonly code: 'ERR_CONFIG_DIR_UNREADABLE';
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'ConfigSourceError';
    this.code = 'ERR_CONFIG_DIR_UNREADABLE';
  }
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

/** See DirectorySource. */
export function createDirectorySource(options: DirectorySourceOptions): DirectorySource {
  const { dir, store, logger, onProblems } = options;
  const debounceMs = options.debounceMs ?? 50;
  const sourceId = `directory:${dir}`;
  const byFile = new Map<string, ConfigObject[]>();
  let current: readonly Problem[] = [];
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function loadFile(file: string, problems: Problem[]): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') {
        byFile.delete(file);
        return;
      }
      problems.push({
        severity: 'error',
        path: '',
        message: `${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`,
      });
      return;
    }
    const parsed = parseConfigYamlDetailed(text, file);
    problems.push(...parsed.problems);
    byFile.set(file, mergeFileObjects(byFile.get(file) ?? [], parsed));
  }

  async function reload(): Promise<void> {
    const problems: Problem[] = [];
    try {
      const files = await listYamlFiles(dir);
      const listed = new Set(files);
      for (const file of byFile.keys()) if (!listed.has(file)) byFile.delete(file);
      for (const file of files) await loadFile(file, problems);
    } catch (err) {
      // The directory itself is unreadable (removed, permissions): keep every last good object.
      problems.push({
        severity: 'error',
        path: '',
        message: `${dir}: cannot read directory: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
    const objects = [...byFile.keys()].sort().flatMap((file) => byFile.get(file) ?? []);
    problems.push(...validateReferences(objects));
    if (stopped) return;
    current = problems;
    store.replaceAll(sourceId, objects);
    const errors = problems.filter((p) => p.severity === 'error').length;
    logger?.info('config directory loaded', {
      dir,
      objects: objects.length,
      errors,
      warnings: problems.length - errors,
    });
    onProblems?.(problems);
  }

  /** Reloads one at a time, in order; a failure is logged and the last good state stays. */
  function enqueue(): Promise<void> {
    running = running.then(reload).catch((err: unknown) => {
      logger?.error('config directory reload failed', {
        dir,
        error: err instanceof Error ? err.message : String(err),
      });
    });
    return running;
  }

  return {
    dir,
    problems: () => current,
    async start() {
      stopped = false;
      try {
        if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
      } catch (err) {
        const reason =
          (err as { code?: unknown }).code === 'ENOENT'
            ? 'no such directory'
            : err instanceof Error
              ? err.message
              : String(err);
        throw new ConfigSourceError(`config directory ${dir}: ${reason}`, { cause: err });
      }
      await enqueue();
      watcher = watch(dir, { recursive: true }, () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          void enqueue();
        }, debounceMs);
      });
      watcher.on('error', (err) => {
        logger?.warn('config directory watch failed', { dir, error: err.message });
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
      await running;
    },
  };
}
