/**
 * Picks the config source a process runs from a plain spec, so `main.ts` and
 * embedders (`weft up`, tests) choose a source without knowing its module.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { type ConfigStore, defaultMeshConfig, type MeshConfig, type Problem } from '@weft/config';
import type { Logger } from '@weft/telemetry';
import type { ConfigSource } from './config-source.ts';
import { createDirectoryConfigSource } from './directory-config-source.ts';
import { createKubeConfigSource } from './kube/kube-config-source.ts';
import type { BackoffOptions } from './kube/resilient-informer.ts';

export type ConfigSourceSpec =
  | { kind: 'directory'; dir: string; debounceMs?: number }
  /**
   * Kubernetes informers. `kubeconfig` is a kubeconfig file (its current
   * context); without it the in-cluster service-account config is used.
   */
  | {
      kind: 'kubernetes';
      kubeconfig?: string;
      debounceMs?: number;
      syncTimeoutMs?: number;
      rediscoverMs?: number;
      backoff?: BackoffOptions;
    };

export interface ConfigSourceDeps {
  store: ConfigStore;
  logger?: Logger;
  onProblems?: (problems: readonly Problem[]) => void;
  /** Mesh settings a source needs (the Kubernetes source reads `domainSuffix`); default `defaultMeshConfig()`. */
  mesh?: MeshConfig;
}

/** Loads a kubeconfig file, or the in-cluster config; a config that cannot be loaded is a message. */
export function loadKubeConfig(
  path: string | undefined,
): { ok: true; kubeConfig: KubeConfig } | { ok: false; message: string } {
  const kubeConfig = new KubeConfig();
  try {
    if (path === undefined) kubeConfig.loadFromCluster();
    else kubeConfig.loadFromFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `cannot load the kubeconfig ${path ?? '(in-cluster)'}: ${reason}` };
  }
  const server = kubeConfig.getCurrentCluster()?.server;
  if (server === undefined || server.includes('undefined')) {
    return {
      ok: false,
      message:
        path === undefined
          ? 'not running in a Kubernetes pod (no in-cluster API server address); pass --kubeconfig FILE'
          : `the kubeconfig ${path} has no current cluster`,
    };
  }
  return { ok: true, kubeConfig };
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
    case 'kubernetes': {
      const loaded = loadKubeConfig(spec.kubeconfig);
      if (!loaded.ok) return loaded;
      return {
        ok: true,
        source: createKubeConfigSource({
          kubeConfig: loaded.kubeConfig,
          store: deps.store,
          mesh: deps.mesh ?? defaultMeshConfig(),
          ...(spec.debounceMs === undefined ? {} : { debounceMs: spec.debounceMs }),
          ...(spec.syncTimeoutMs === undefined ? {} : { syncTimeoutMs: spec.syncTimeoutMs }),
          ...(spec.rediscoverMs === undefined ? {} : { rediscoverMs: spec.rediscoverMs }),
          ...(spec.backoff === undefined ? {} : { backoff: spec.backoff }),
          ...(deps.logger === undefined ? {} : { logger: deps.logger }),
          ...(deps.onProblems === undefined ? {} : { onProblems: deps.onProblems }),
        }),
      };
    }
  }
}
