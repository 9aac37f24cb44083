/**
 * Types shared by the `networking.istio.io` kinds, with Istio's camelCase
 * YAML field names. Durations are kept as Istio writes them (`"1.5s"`,
 * `"250ms"`); use `parseDuration` to read them.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/
 */

/** Match a string by exactly one of `exact`, `prefix` or `regex` (RE2 syntax). */
export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

/** Selects a port on a destination service by number. */
export interface PortSelector {
  number: number;
}

/** A labels map selecting workloads. */
export interface WorkloadSelector {
  labels?: Record<string, string>;
}
