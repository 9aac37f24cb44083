/**
 * Picks the config source a process runs from a plain spec, so `main.ts` and
 * embedders (`weft up`, tests) choose a source without knowing its module.
 */
import type { ConfigStore, Problem } from '@weft/config';
import type { Logger } from '@weft/telemetry';
import type { ConfigSource } from './config-source.ts';
import { createDirectoryConfigSource } from './directory-config-source.ts';

export type ConfigSourceSpec =
  | { kind: 'directory'; dir: string; debounceMs?: number }
  /** Kubernetes watches arrive in a later issue; the spec exists so callers can ask for it. */
  | { kind: 'kubernetes' };

export interface ConfigSourceDeps {
  store: ConfigStore;
  logger?: Logger;
  onProblems?: (problems: readonly Problem[]) => void;
}

export type CreateConfigSourceResult = { ok: true; source: ConfigSource } | { ok: false; message: string };

/** Builds the source for `spec`; a source this build cannot run is an error value, not a throw. */
export function createConfigSource(spec: ConfigSourceSpec, deps: ConfigSourceDeps): CreateConfigSourceResult {
  switch (spec.kind) {
    case 'directory':
      return {
        ok: true,
        source: createDirectoryConfigSource({
          dir: spec.dir,
          store: deps.store,
          ...(spec.debounceMs === undefined ? {} : { debounceMs: spec.debounceMs }),
          ...(deps.logger === undefined ? {} : { logger: deps.logger }),
          ...(deps.onProblems === undefined ? {} : { onProblems: deps.onProblems }),
        }),
      };
    case 'kubernetes':
      return {
        ok: false,
        message:
          'the Kubernetes config source is not available yet in this build; run with --config-dir DIR (a directory of Istio YAML)',
      };
  }
}
