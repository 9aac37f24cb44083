/**
 * Envoy's string, header and query-parameter matchers, compiled once at
 * config time into predicates (regexes built here, never per request).
 *
 * See envoy/type/matcher/v3/string.proto and
 * envoy/config/route/v3/route_components.proto (HeaderMatcher,
 * QueryParameterMatcher).
 */
import {
  at,
  type Body,
  compileRegex,
  type ProblemList,
  readBody,
  readBool,
  readString,
  toNumber,
} from './problems.ts';

/** Tests one string value. */
export type StringPredicate = (value: string) => boolean;

/** Compiles a `type.matcher.v3.StringMatcher` (exact, prefix, suffix, contains, safeRegex; ignoreCase). */
export function compileStringMatcher(
  body: Body,
  path: string,
  problems: ProblemList,
): StringPredicate | undefined {
  const ignoreCase = readBool(body, 'ignoreCase', path, problems) ?? false;
  const norm = (s: string): string => (ignoreCase ? s.toLowerCase() : s);
  for (const kind of ['exact', 'prefix', 'suffix', 'contains'] as const) {
    const raw = readString(body, kind, path, problems);
    if (raw === undefined) continue;
    const want = norm(raw);
    if (kind === 'exact') return (v) => norm(v) === want;
    if (kind === 'prefix') return (v) => norm(v).startsWith(want);
    if (kind === 'suffix') return (v) => norm(v).endsWith(want);
    return (v) => norm(v).includes(want);
  }
  const safeRegex = readBody(body, 'safeRegex', path, problems);
  if (safeRegex) {
    const pattern = readString(safeRegex, 'regex', at(path, 'safeRegex'), problems);
    const re =
      pattern === undefined ? undefined : compileRegex(pattern, at(path, 'safeRegex.regex'), problems);
    return re ? (v) => re.test(v) : undefined;
  }
  problems.add(path, 'one of exact, prefix, suffix, contains or safeRegex is required');
  return undefined;
}

/** A compiled HeaderMatcher: `name` is lowercased; `test` receives the joined value or undefined when absent. */
export interface HeaderMatch {
  readonly name: string;
  test(value: string | undefined): boolean;
}

/**
 * Compiles a `route.v3.HeaderMatcher`. Supports stringMatch, the deprecated
 * exact/prefix/suffix/contains/safeRegex fields, rangeMatch, presentMatch,
 * invertMatch and treatMissingHeaderAsEmpty.
 */
export function compileHeaderMatcher(
  body: Body,
  path: string,
  problems: ProblemList,
): HeaderMatch | undefined {
  const name = readString(body, 'name', path, problems);
  if (!name) {
    problems.add(at(path, 'name'), 'is required');
    return undefined;
  }
  const invert = readBool(body, 'invertMatch', path, problems) ?? false;
  const missingAsEmpty = readBool(body, 'treatMissingHeaderAsEmpty', path, problems) ?? false;
  let valueTest: StringPredicate | undefined;
  let present: boolean | undefined;
  const stringMatch = readBody(body, 'stringMatch', path, problems);
  if (stringMatch) {
    valueTest = compileStringMatcher(stringMatch, at(path, 'stringMatch'), problems);
  } else if (body.exactMatch !== undefined) {
    const want = readString(body, 'exactMatch', path, problems);
    valueTest = (v) => v === want;
  } else if (body.prefixMatch !== undefined) {
    const want = readString(body, 'prefixMatch', path, problems) ?? '';
    valueTest = (v) => v.startsWith(want);
  } else if (body.suffixMatch !== undefined) {
    const want = readString(body, 'suffixMatch', path, problems) ?? '';
    valueTest = (v) => v.endsWith(want);
  } else if (body.containsMatch !== undefined) {
    const want = readString(body, 'containsMatch', path, problems) ?? '';
    valueTest = (v) => v.includes(want);
  } else if (body.safeRegexMatch !== undefined) {
    const regex = readBody(body, 'safeRegexMatch', path, problems);
    const pattern = regex && readString(regex, 'regex', at(path, 'safeRegexMatch'), problems);
    const re =
      pattern === undefined ? undefined : compileRegex(pattern, at(path, 'safeRegexMatch.regex'), problems);
    if (re) valueTest = (v) => re.test(v);
  } else if (body.rangeMatch !== undefined) {
    const range = readBody(body, 'rangeMatch', path, problems);
    const start = toNumber(range?.start);
    const end = toNumber(range?.end);
    if (start === undefined || end === undefined || start >= end) {
      problems.add(at(path, 'rangeMatch'), 'start and end are required and start must be < end');
    } else {
      valueTest = (v) => /^-?\d+$/.test(v) && Number(v) >= start && Number(v) < end;
    }
  } else if (body.presentMatch !== undefined) {
    present = readBool(body, 'presentMatch', path, problems) ?? true;
  } else {
    present = true;
  }
  const lower = name.toLowerCase();
  if (present !== undefined) {
    const want = present;
    return { name: lower, test: (v) => ((v !== undefined) === want) !== invert };
  }
  if (!valueTest) return undefined;
  const test = valueTest;
  return {
    name: lower,
    test: (v) => {
      const value = v ?? (missingAsEmpty ? '' : undefined);
      if (value === undefined) return false;
      return test(value) !== invert;
    },
  };
}

/** A compiled QueryParameterMatcher: matches when the parameter is present and its value passes. */
export interface QueryMatch {
  readonly name: string;
  test(value: string | undefined): boolean;
}

/** Compiles a `route.v3.QueryParameterMatcher` (stringMatch or presentMatch). */
export function compileQueryMatcher(body: Body, path: string, problems: ProblemList): QueryMatch | undefined {
  const name = readString(body, 'name', path, problems);
  if (!name) {
    problems.add(at(path, 'name'), 'is required');
    return undefined;
  }
  const stringMatch = readBody(body, 'stringMatch', path, problems);
  if (stringMatch) {
    const test = compileStringMatcher(stringMatch, at(path, 'stringMatch'), problems);
    return test ? { name, test: (v) => v !== undefined && test(v) } : undefined;
  }
  const present = readBool(body, 'presentMatch', path, problems) ?? true;
  return { name, test: (v) => (v !== undefined) === present };
}
