/** IPC messages between the benchmark (parent) and its load processes. */
import type { AdsMode } from '@weft/xds';
import type { ProxySpec } from './mesh-config.ts';

export type ToWorker =
  | { kind: 'start'; address: string; mode: AdsMode; specs: ProxySpec[]; firstIndex: number }
  /** Starts measuring a change: `expected` proxies (global indices) must ACK `watchType` for it to be done. */
  | { kind: 'mark'; id: number; expected: number[]; watchType: string }
  | { kind: 'collect' }
  | { kind: 'stop' };

/** What one load process saw since the last mark. */
export interface ChangeReport {
  id: number;
  /** Global indices of proxies that got at least one response. */
  pushed: number[];
  /** Resource bytes received (sum of Any values). */
  bytes: number;
  responses: number;
  /** Wall time (ms since epoch, fractional) of the last ACK, 0 if none. */
  lastAckAt: number;
  /** CPU seconds this load process used so far. */
  cpuSeconds: number;
  rssBytes: number;
}

export type ToParent =
  | { kind: 'ready' }
  | { kind: 'synced'; index: number; at: number }
  | { kind: 'marked'; id: number }
  | { kind: 'change-done'; id: number; at: number }
  | { kind: 'report'; report: ChangeReport; synced: number };
