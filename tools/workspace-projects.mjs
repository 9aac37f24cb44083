/**
 * The workspace's projects, as npm and Nx see them: the root package.json
 * `workspaces` globs (`dir/*` or `dir`) expanded to the folders that hold a
 * package.json. Shared by the test runner and the boundary lint.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Absolute folders of every workspace project under `workspaceRoot`. */
export function workspaceProjectRoots(workspaceRoot) {
  const { workspaces = [] } = JSON.parse(readFileSync(join(workspaceRoot, 'package.json'), 'utf8'));
  const roots = workspaces.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [join(workspaceRoot, pattern)];
    const group = join(workspaceRoot, pattern.slice(0, -2));
    return existsSync(group) ? readdirSync(group).map((name) => join(group, name)) : [];
  });
  return roots.filter((root) => existsSync(join(root, 'package.json')));
}
