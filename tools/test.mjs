#!/usr/bin/env node
/**
 * The whole test suite: what `npm test` and `.ci/run` run.
 *
 * Builds, tests and lints every project through Nx, then prints one closing
 * line summing the vitest results of all projects
 * (`weft tests: N passed, N failed, N skipped`), read from the JSON report
 * each project's vitest run writes to `.test-results/vitest.json`.
 * Exits with Nx's status.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceProjectRoots } from './workspace-projects.mjs';

const root = join(import.meta.dirname, '..');
const projectDirs = workspaceProjectRoots(root);
const reportOf = (dir) => join(dir, '.test-results', 'vitest.json');
for (const dir of projectDirs) rmSync(reportOf(dir), { force: true });

console.log(`node ${process.version}`);
const nx = spawnSync(
  'npx',
  [
    '--no-install',
    'nx',
    'run-many',
    '-t',
    'build',
    'test',
    'lint',
    '--outputStyle=static',
    '--skipNxCache',
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit' },
);

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const dir of projectDirs) {
  if (!existsSync(join(dir, 'package.json'))) continue;
  const path = reportOf(dir);
  if (!existsSync(path)) {
    missing.push(dir.slice(root.length + 1));
    continue;
  }
  const report = JSON.parse(readFileSync(path, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
}
if (missing.length > 0) console.log(`no vitest report from: ${missing.join(', ')}`);
console.log(`weft tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(nx.status ?? 1);
