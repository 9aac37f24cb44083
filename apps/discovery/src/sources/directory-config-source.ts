/**
 * The directory source behind the `ConfigSource` interface: a directory of
 * Istio YAML watched by @weft/config's directory source.
 */
import { type ConfigStore, createDirectorySource, type Problem } from '@weft/config';
import type { Logger } from '@weft/telemetry';
import type { ConfigSource } from './config-source.ts';

export interface DirectoryConfigSourceOptions {
  dir: string;
  store: ConfigStore;
  /** Quiet period after a file change before the directory is re-read, in ms. */
  debounceMs?: number;
  logger?: Logger;
  /** Called after every read with that read's problems (empty when all is well). */
  onProblems?: (problems: readonly Problem[]) => void;
}

/** Creates a `ConfigSource` over a directory of YAML files. Nothing is read until `start()`. */
export function createDirectoryConfigSource(options: DirectoryConfigSourceOptions): ConfigSource {
  const source = createDirectorySource({
    dir: options.dir,
    store: options.store,
    ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.onProblems === undefined ? {} : { onProblems: options.onProblems }),
  });
  let ready = false;
  return {
    name: `directory:${options.dir}`,
    get ready() {
      return ready;
    },
    start: async () => {
      await source.start();
      ready = true;
    },
    stop: () => source.stop(),
    problems: () => source.problems(),
  };
}
