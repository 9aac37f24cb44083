/** docs/configuration.md is generated from the schemas; this fails when it is stale. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { renderConfigReference } from '../src/reference/config-reference.ts';

/** Markdown with table padding removed, so the formatter's column alignment does not matter. */
function normalize(markdown: string): string[] {
  return markdown
    .trimEnd()
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split(/(?<!\\)\|/)
            .map((cell) => cell.trim().replace(/^-+$/, '---'))
            .join('|')
        : line,
    );
}

it('docs/configuration.md matches the schemas (regenerate with scripts/write-config-reference.ts)', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  expect(normalize(doc)).toEqual(normalize(renderConfigReference()));
});

it('lists every field of the schemas with a status', () => {
  const doc = renderConfigReference();
  expect(doc).toContain('| `spec.http[].route[].weight` | integer | supported | >= 0 |');
  expect(doc).toContain(
    '| `spec.http[].delegate` | object | validated only | ignored: delegate VirtualServices are not supported |',
  );
  expect(doc).toContain(
    '| `spec.trafficPolicy.tls.mode` | `DISABLE` \\| `SIMPLE` \\| `MUTUAL` \\| `ISTIO_MUTUAL` | supported |',
  );
});
