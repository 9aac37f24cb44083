/** Loads Istio YAML from files and directories. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigObject } from '../resources/resource-types.ts';
import type { Problem } from '../validation/problem.ts';
import { validateReferences } from '../validation/validate-references.ts';
import { parseConfigYaml } from './parse-config-yaml.ts';

const YAML_FILE = /\.ya?ml$/;

/**
 * `*.yaml` and `*.yml` files under `dir`, recursively, sorted by path.
 * Hidden entries (starting with '.') are skipped, as editors and Kubernetes
 * ConfigMap mounts (`..data`) put them there; symlinks to files are followed.
 */
export async function listYamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    // Follow symlinks to files (Kubernetes ConfigMap mounts are `name.yaml -> ..data/name.yaml`),
    // not to directories, so a link cycle cannot recurse forever.
    const isFile =
      entry.isFile() ||
      (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile() === true);
    if (entry.isDirectory()) out.push(...(await listYamlFiles(path)));
    else if (isFile && YAML_FILE.test(entry.name)) out.push(path);
  }
  return out;
}

/**
 * Loads every path (a file, or a directory read recursively for `*.yaml`
 * and `*.yml`, sorted) and returns the valid objects and all problems:
 * unreadable paths, YAML errors, invalid objects, and the cross-object
 * checks of `validateReferences`. Never rejects.
 */
export async function loadConfigPaths(
  paths: string[],
): Promise<{ objects: ConfigObject[]; problems: Problem[] }> {
  const objects: ConfigObject[] = [];
  const problems: Problem[] = [];
  for (const path of paths) {
    let files: string[];
    try {
      files = (await stat(path)).isDirectory() ? await listYamlFiles(path) : [path];
    } catch (err) {
      problems.push(ioProblem(path, err));
      continue;
    }
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        problems.push(ioProblem(file, err));
        continue;
      }
      const parsed = parseConfigYaml(text, file);
      objects.push(...parsed.objects);
      problems.push(...parsed.problems);
    }
  }
  problems.push(...validateReferences(objects));
  return { objects, problems };
}

function ioProblem(path: string, err: unknown): Problem {
  const code = (err as { code?: unknown }).code;
  const reason =
    code === 'ENOENT' ? 'no such file or directory' : err instanceof Error ? err.message : String(err);
  return { severity: 'error', path: '', message: `${path}: cannot read: ${reason}` };
}
