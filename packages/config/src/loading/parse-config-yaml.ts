/**
 * Multi-document YAML to validated objects. Never throws: YAML syntax errors,
 * non-resources and invalid resources become problems, and the good objects
 * beside them are kept.
 */
import { type Document, isMap, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import type { ConfigObject } from '../resources/resource-types.ts';
import type { Problem } from '../validation/problem.ts';
import { type ObjectIdentity, validateObjectAt } from '../validation/validate-object.ts';
import { lineOfPath } from './yaml-locator.ts';

export interface ParseResult {
  objects: ConfigObject[];
  problems: Problem[];
}

/** A parse with what loaders need to keep the last good version of objects. */
export interface DetailedParseResult extends ParseResult {
  /** Objects whose identity was read but that are invalid. */
  rejected: ObjectIdentity[];
  /** True when some document could not be read far enough to know which object it was. */
  incomplete: boolean;
}

/**
 * Where a parsed object came from: the file's text, its document and (for
 * `kind: List`) its item. Enough to find any field's line again by parsing
 * the text once more, without keeping every YAML tree alive for the
 * lifetime of the objects (the trees are several times the objects' size).
 */
interface ObjectOrigin {
  text: string;
  document: number;
  item: number | undefined;
}

/** Origins of parsed objects, for cross-object problems (validateReferences). */
const origins = new WeakMap<ConfigObject, ObjectOrigin>();

/**
 * The last text parsed again by `lineOf`: cross-object problems come in file
 * order, so consecutive lookups mostly hit the same file.
 */
let reparsed: { text: string; documents: readonly Document.Parsed[]; lines: LineCounter } | undefined;

/**
 * The line of `path` in `object` as it was loaded, when it came from YAML.
 * Parses the object's file text again (cached for the last file asked),
 * so call it for problems, not on every object.
 */
export function lineOf(object: ConfigObject, path: string): number | undefined {
  const origin = origins.get(object);
  if (!origin) return undefined;
  if (reparsed?.text !== origin.text) {
    const lines = new LineCounter();
    const documents = parseAllDocuments(origin.text, { lineCounter: lines, uniqueKeys: true });
    reparsed = { text: origin.text, documents: Array.isArray(documents) ? documents : [], lines };
  }
  const contents = (reparsed.documents[origin.document]?.contents ?? null) as Node | null;
  if (origin.item === undefined) return lineOfPath(contents, path, reparsed.lines);
  const items = isMap(contents) ? contents.get('items', true) : undefined;
  const node = isSeq(items) ? (items.items[origin.item] as Node | undefined) : undefined;
  return node ? lineOfPath(node, path, reparsed.lines) : undefined;
}

/** Aliases expanded per document, against "billion laughs" inputs. */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses every document of `text` (a file named `file` in messages) and
 * validates each as an Istio resource. `kind: List` documents are expanded.
 * Objects with errors are not in `objects`.
 */
export function parseConfigYaml(text: string, file: string): ParseResult {
  const { objects, problems } = parseConfigYamlDetailed(text, file);
  return { objects, problems };
}

export function parseConfigYamlDetailed(text: string, file: string): DetailedParseResult {
  const result: DetailedParseResult = { objects: [], problems: [], rejected: [], incomplete: false };
  const lines = new LineCounter();
  let documents: ReturnType<typeof parseAllDocuments>;
  try {
    documents = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    result.problems.push(fileProblem(file, 1, `cannot parse YAML: ${messageOf(err)}`));
    result.incomplete = true;
    return result;
  }
  if (!Array.isArray(documents)) return result;
  for (const [index, doc] of documents.entries()) {
    const docLine = doc.contents?.range
      ? lines.linePos(doc.contents.range[0]).line
      : lines.linePos(doc.range?.[0] ?? 0).line;
    if (doc.errors.length > 0) {
      result.incomplete = true;
      // The first error is the one to fix; the parser's follow-on errors are noise.
      const [error] = doc.errors;
      const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more in this document)` : '';
      const line = error?.linePos?.[0].line ?? docLine;
      result.problems.push(
        fileProblem(file, line, `YAML syntax error: ${firstLine(error?.message ?? 'unreadable')}${more}`),
      );
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      result.incomplete = true;
      result.problems.push(fileProblem(file, docLine, `cannot read YAML document: ${messageOf(err)}`));
      continue;
    }
    if (value === null || value === undefined) continue;
    const contents = doc.contents as Node | null;
    if (isList(value) && isMap(contents)) {
      const itemsNode = contents.get('items', true);
      value.items.forEach((item, i) => {
        const node = isSeq(itemsNode) ? (itemsNode.items[i] as Node | undefined) : undefined;
        const line = node?.range ? lines.linePos(node.range[0]).line : docLine;
        addObject(result, item, file, line, (path) => lineOfPath(node ?? null, path, lines), {
          text,
          document: index,
          item: i,
        });
      });
      continue;
    }
    addObject(result, value, file, docLine, (path) => lineOfPath(contents, path, lines), {
      text,
      document: index,
      item: undefined,
    });
  }
  return result;
}

function addObject(
  result: DetailedParseResult,
  value: unknown,
  file: string,
  line: number,
  locate: (path: string) => number | undefined,
  origin: ObjectOrigin,
): void {
  const validated = validateObjectAt(value, { file, line }, locate);
  result.problems.push(...validated.problems);
  if (validated.object) {
    origins.set(validated.object, origin);
    result.objects.push(validated.object);
  } else if (validated.identity) {
    result.rejected.push(validated.identity);
  } else if (!validated.foreign) {
    result.incomplete = true;
  }
}

function isList(value: unknown): value is { items: unknown[] } {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return record.apiVersion === 'v1' && record.kind === 'List' && Array.isArray(record.items);
}

function fileProblem(file: string, line: number, message: string): Problem {
  return { severity: 'error', source: { file, line }, path: '', message };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
