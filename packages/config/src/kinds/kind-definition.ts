/** How each kind is described: its API group, accepted versions, spec schema and semantic checks. */
import type { Kind, SpecOf } from '../resources/resource-types.ts';
import type { Reporter } from '../schema/reporter.ts';
import type { ObjectSchema } from '../schema/schema.ts';

export const NETWORKING_GROUP = 'networking.istio.io';
export const SECURITY_GROUP = 'security.istio.io';
export const NETWORKING_VERSIONS = ['v1alpha3', 'v1beta1', 'v1'] as const;
export const SECURITY_VERSIONS = ['v1beta1', 'v1'] as const;

export interface SemanticContext {
  /** The object's namespace (defaulted). */
  namespace: string;
  report: Reporter;
}

export interface KindDefinition<K extends Kind = Kind> {
  kind: K;
  group: typeof NETWORKING_GROUP | typeof SECURITY_GROUP;
  versions: readonly string[];
  spec: ObjectSchema;
  /** Checks across fields; runs only on a spec that passed the schema, so it may trust the types. */
  semantic?: (spec: SpecOf<K>, context: SemanticContext) => void;
}
