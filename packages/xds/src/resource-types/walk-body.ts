/** Helpers for finding references in resource bodies (plain objects, camelCase). */

/** Calls `visit` on every object nested in `value` (including `value`), depth first. */
export function forEachObject(
  value: unknown,
  visit: (object: Record<string, unknown>) => void,
  depth = 0,
): void {
  if (depth > 64 || typeof value !== 'object' || value === null || value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const entry of value) forEachObject(entry, visit, depth + 1);
    return;
  }
  const object = value as Record<string, unknown>;
  visit(object);
  for (const child of Object.values(object)) forEachObject(child, visit, depth + 1);
}

/** `object[key]` when it is a non-empty string. */
export function stringField(object: unknown, key: string): string | undefined {
  if (typeof object !== 'object' || object === null) return undefined;
  const value = (object as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Names of SDS secrets referenced through `sdsConfig`-style configs (`{ name, sdsConfig: { ads: {} } }`). */
export function sdsSecretNames(body: unknown): string[] {
  const names: string[] = [];
  forEachObject(body, (object) => {
    const configs = [object.tlsCertificateSdsSecretConfigs, object.validationContextSdsSecretConfig];
    for (const config of configs.flat()) {
      const name = stringField(config, 'name');
      const source = (config as Record<string, unknown> | undefined)?.sdsConfig as
        | Record<string, unknown>
        | undefined;
      if (name && source && 'ads' in source) names.push(name);
    }
  });
  return names;
}
