/** Finds the line a field path was written on in a parsed YAML document. */
import { isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

type Segment = string | number;

const SEGMENT = /\.?([A-Za-z0-9_-]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;

/** `spec.http[0].headers["x.y"]` -> ['spec', 'http', 0, 'headers', 'x.y']; undefined when it does not parse. */
export function pathSegments(path: string): Segment[] | undefined {
  const segments: Segment[] = [];
  SEGMENT.lastIndex = 0;
  while (SEGMENT.lastIndex < path.length) {
    const match = SEGMENT.exec(path);
    if (!match) return undefined;
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else segments.push(JSON.parse(match[3] ?? '""') as string);
  }
  return segments;
}

/**
 * The 1-based line of the deepest node on `path` under `root` (the key's line
 * for a map entry), so a missing field points at its parent.
 */
export function lineOfPath(root: Node | null, path: string, lines: LineCounter): number | undefined {
  let node: unknown = root;
  let offset = root?.range?.[0];
  for (const segment of pathSegments(path) ?? []) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      offset = isScalar(pair.key) ? pair.key.range?.[0] : offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (!item) break;
      node = item;
      offset = (item as Node).range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}
