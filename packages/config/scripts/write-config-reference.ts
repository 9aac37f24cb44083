/**
 * Writes docs/configuration.md from the schemas, then formats it as the
 * repository's formatter would: run from the repository root,
 * `npx node packages/config/scripts/write-config-reference.ts`.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from '../src/reference/config-reference.ts';

const target = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));
writeFileSync(target, renderConfigReference());
execFileSync('npx', ['biome', 'format', '--write', target], { stdio: 'inherit' });
process.stdout.write(`wrote ${target}\n`);
