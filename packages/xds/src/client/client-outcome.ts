/** What handling one response decided, shared by the SotW and delta client protocols. */
import type { Resource } from '../resources/resource.ts';
import type { TypeUrl } from '../type-urls.ts';
import type { AdsClientOptions, TypeUpdate, ValidationContext } from './ads-client-types.ts';

export type ResponseOutcome<Req> =
  | { readonly kind: 'ack'; readonly request: Req; readonly update: TypeUpdate }
  | {
      readonly kind: 'nack';
      readonly request: Req;
      readonly problems: readonly string[];
      readonly version: string;
    }
  | { readonly kind: 'ignore'; readonly reason: string };

/** Runs the validation callback; a throwing callback is one problem. */
export function runValidate(
  validate: AdsClientOptions['validate'],
  typeUrl: TypeUrl,
  resources: readonly Resource[],
  context: ValidationContext,
): string[] {
  if (!validate) return [];
  try {
    return [...validate(typeUrl, resources, context)];
  } catch (error) {
    return [`validation failed: ${(error as Error).message}`];
  }
}

/** gRPC INVALID_ARGUMENT, the code a NACK's error_detail carries. */
export const NACK_CODE = 3;
