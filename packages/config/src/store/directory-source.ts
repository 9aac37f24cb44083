/**
 * A directory of Istio YAML feeding a ConfigStore, reloaded when files change.
 */
import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Problem } from '../validation/problem.ts';
import { validateReferences } from '../validation/validate-references.ts';
import { createDirectoryFiles, type DirectoryIo, defaultDirectoryIo } from './directory-files.ts';
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

/** What the watcher reported since the last reload. */
interface PendingChange {
  /** Paths relative to the directory, as `fs.watch` names them. */
  paths: Set<string>;
  /** Something no path names (an event without a file name, a watcher error): list everything. */
  full: boolean;
}

/**
 * See DirectorySource. The first load lists the whole directory; after
 * that a reload looks only at the paths the watcher named since the last
 * one (re-reading them, re-parsing only files whose bytes changed), and
 * lists the whole directory again when the watcher reports something it
 * cannot attribute. `io` replaces file reading and parsing (tests count
 * them).
 */
export function createDirectorySource(
  options: DirectorySourceOptions,
  io: DirectoryIo = defaultDirectoryIo,
): DirectorySource {
  const { dir, store, logger, onProblems } = options;
  const debounceMs = options.debounceMs ?? 50;
  const sourceId = `directory:${dir}`;
  const files = createDirectoryFiles(dir, io);
  let pending: PendingChange = { paths: new Set(), full: true };
  let current: readonly Problem[] = [];
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function reload(): Promise<void> {
    const change = pending;
    pending = { paths: new Set(), full: false };
    if (!change.full && change.paths.size === 0) return;
    const directoryProblems: Problem[] = [];
    try {
      if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
      if (change.full) await files.rescan();
      else await files.refresh(change.paths);
    } catch (err) {
      // The directory itself is unreadable (removed, permissions): keep every last good object.
      directoryProblems.push({
        severity: 'error',
        path: '',
        message: `${dir}: cannot read directory: ${err instanceof Error ? err.message : String(err)}`,
      });
      // Whatever was pending is still unread: list everything on the next reload.
      pending.full = true;
    }
    const objects = files.objects();
    const problems = [...files.problems(), ...directoryProblems, ...validateReferences(objects)];
    if (stopped) return;
    current = problems;
    store.replaceAll(sourceId, objects);
    const errors = problems.filter((p) => p.severity === 'error').length;
    logger?.info('config directory loaded', {
      dir,
      objects: objects.length,
      errors,
      warnings: problems.length - errors,
      ...(change.full ? {} : { paths: change.paths.size }),
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

  function schedule(): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      void enqueue();
    }, debounceMs);
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
      // Watch before the first load, so nothing written meanwhile is missed.
      watcher = watch(dir, { recursive: true }, (_event, filename) => {
        if (filename) pending.paths.add(filename);
        else pending.full = true;
        schedule();
      });
      watcher.on('error', (err) => {
        logger?.warn('config directory watch failed', { dir, error: err.message });
        pending.full = true;
        schedule();
      });
      pending.full = true;
      await enqueue();
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
