/**
 * The IPC contract between a multi-worker primary and its workers
 * (node:cluster, `serialization: 'advanced'`).
 */
import type { ProxyTypeUrl } from '../xds/config-state.ts';

/** Primary -> worker. */
export type ToWorker =
  /** A type's full accepted set, already validated by the primary's ADS client. */
  | {
      readonly type: 'config';
      readonly typeUrl: ProxyTypeUrl;
      readonly version: string;
      readonly resources: readonly { readonly name: string; readonly body: Record<string, unknown> }[];
    }
  | { readonly type: 'query'; readonly id: number; readonly view: AdminView }
  | { readonly type: 'drain' };

/** Worker -> primary. */
export type FromWorker =
  | { readonly type: 'status'; readonly ready: boolean; readonly problems: readonly string[] }
  | { readonly type: 'answer'; readonly id: number; readonly text: string };

export type AdminView = 'stats' | 'clusters' | 'prometheus';

export function isToWorker(message: unknown): message is ToWorker {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'config' || type === 'query' || type === 'drain';
}

export function isFromWorker(message: unknown): message is FromWorker {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'status' || type === 'answer';
}
