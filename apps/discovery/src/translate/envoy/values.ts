/**
 * Builders for the small Envoy value messages every resource uses, in the
 * protobufjs object form `@weft/xds` encodes: camelCase fields, enums by
 * name, Duration as `{ seconds, nanos }`, wrappers as `{ value }`, Any as
 * `{ '@type': 'type.googleapis.com/<name>', ...fields }`.
 */

export type Body = Record<string, unknown>;

/** A `google.protobuf.Any` holding the message `typeName` with `fields`. */
export function typed(typeName: string, fields: Body = {}): Body {
  return { '@type': `type.googleapis.com/${typeName}`, ...fields };
}

/** A `google.protobuf.Duration` of `ms` milliseconds (rounded to whole nanoseconds). */
export function duration(ms: number): Body {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos === 0 ? { seconds } : { seconds, nanos };
}

const UNIT_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 1e-6,
};
const PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/y;

/**
 * Milliseconds of a Go-style duration as Istio writes them (`1s`, `250ms`,
 * `1.5s`, `1m30s`), or undefined when `text` is not one.
 */
export function parseDurationMs(text: string): number | undefined {
  if (text === '' || text === '0') return text === '0' ? 0 : undefined;
  PART.lastIndex = 0;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    PART.lastIndex = index;
    const match = PART.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    index = PART.lastIndex;
  }
  return total;
}

/** A `google.protobuf.UInt32Value` / `BoolValue` wrapper. */
export function wrap<T extends number | boolean>(value: T): { value: T } {
  return { value };
}

/** A `type.v3.FractionalPercent` in millionths, from an Istio percentage in [0, 100]. */
export function fractionalPercent(percent: number): Body {
  const clamped = Math.min(100, Math.max(0, percent));
  return { numerator: Math.round(clamped * 10_000), denominator: 'MILLION' };
}

/** A `core.v3.Address` for a TCP socket. */
export function socketAddress(address: string, port: number): Body {
  return { socketAddress: { address, portValue: port } };
}

/** A `core.v3.ConfigSource` that says "over the same ADS stream". */
export function adsConfigSource(): Body {
  return { ads: {}, resourceApiVersion: 'V3' };
}

/** Envoy's `type.matcher.v3.StringMatcher` for an Istio StringMatch. */
export function stringMatcher(
  match: { exact: string } | { prefix: string } | { regex: string },
  ignoreCase = false,
): Body {
  const base: Body = ignoreCase ? { ignoreCase: true } : {};
  if ('exact' in match) return { ...base, exact: match.exact };
  if ('prefix' in match) return { ...base, prefix: match.prefix };
  return { safeRegex: { regex: match.regex } };
}
