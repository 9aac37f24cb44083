/**
 * What the protocol code needs to know about one xDS resource type. One
 * module per type in this folder; adding a type means adding a module here
 * and its type URL in `type-urls.ts`.
 */
import type { TypeUrl } from '../type-urls.ts';

/** A name another resource type must provide, found by `references`. */
export interface ResourceReference {
  readonly typeUrl: TypeUrl;
  readonly name: string;
}

export interface ResourceType {
  readonly typeUrl: TypeUrl;
  /** Full protobuf message name, e.g. `envoy.config.listener.v3.Listener`. */
  readonly messageName: string;
  /** `LDS`, `RDS`, `CDS`, `EDS` or `SDS`. */
  readonly shortName: string;
  /**
   * True for LDS and CDS: a state-of-the-world response carries the full set,
   * a missing resource means deleted, and a stream that names nothing is a
   * wildcard subscription. False for RDS, EDS and SDS: responses carry the
   * named subset and there is no deletion signal.
   */
  readonly fullStateInSotw: boolean;
  /** Resources of other types this body depends on (for snapshot consistency checks). */
  references(body: Record<string, unknown>): ResourceReference[];
}
