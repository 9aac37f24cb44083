/**
 * Applies compiled header mutations (`*HeadersToAdd` / `*HeadersToRemove`)
 * to an outgoing header object in place: removals first, then additions.
 */
import type { HeaderMutation } from '../config/http-filter-config.ts';

type Headers = Record<string, string | string[] | number | undefined>;

/** Applies one mutation to `headers` (lowercased names). */
export function applyHeaderMutation(headers: Headers, mutation: HeaderMutation): void {
  for (const name of mutation.remove) delete headers[name];
  for (const option of mutation.add) {
    const existing = headers[option.name];
    switch (option.action) {
      case 'APPEND_IF_EXISTS_OR_ADD':
        if (existing === undefined) headers[option.name] = option.value;
        else
          headers[option.name] = [...(Array.isArray(existing) ? existing : [String(existing)]), option.value];
        break;
      case 'ADD_IF_ABSENT':
        if (existing === undefined) headers[option.name] = option.value;
        break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        headers[option.name] = option.value;
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (existing !== undefined) headers[option.name] = option.value;
        break;
    }
  }
}
