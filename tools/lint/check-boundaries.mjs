#!/usr/bin/env node
/**
 * Module-boundary lint for one Nx project (run from the project's root).
 *
 * Reads the project's Nx tags from its package.json (`nx.tags`), finds every
 * import in src/ and test/, and enforces the dependency rules of
 * shared/STYLE.md. The rules live in RULES below, each with its reason.
 * Exit 1 with one `file:line: reason` line per violation.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { workspaceProjectRoots } from '../workspace-projects.mjs';

const projectRoot = process.cwd();
/** The nearest folder above the project that holds nx.json. */
function findWorkspaceRoot(from) {
  let dir = resolve(from, '..');
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${from}`);
    dir = parent;
  }
  return dir;
}
const workspaceRoot = findWorkspaceRoot(projectRoot);

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** name -> { tags, root } for every workspace project. */
function loadProjects() {
  const projects = new Map();
  for (const root of workspaceProjectRoots(workspaceRoot)) {
    const pkg = readJson(join(root, 'package.json'));
    projects.set(pkg.name, { tags: pkg.nx?.tags ?? [], root });
  }
  return projects;
}

const RULES = [
  {
    when: (self) => self.tags.includes('type:lib'),
    forbid: (target) => target?.tags.includes('type:app'),
    reason: 'packages never import apps',
  },
  {
    when: (self) => self.tags.includes('type:app'),
    forbid: (target) => target?.tags.includes('type:app'),
    reason: 'apps never import each other',
  },
  {
    when: (self) => self.tags.includes('scope:shared'),
    forbid: (target) => target && !target.tags.includes('scope:shared'),
    reason: 'shared packages import only shared packages',
  },
  {
    when: (self) => self.tags.includes('scope:dataplane'),
    forbid: (_target, spec) =>
      spec === '@kubernetes/client-node' || spec.startsWith('@kubernetes/client-node/'),
    reason: 'the data plane imports no Kubernetes client (only control-plane APIs)',
  },
  {
    when: (self) => self.name === '@weft/xds',
    forbid: (_target, spec) => spec === '@weft/config',
    reason: "@weft/xds does not import @weft/config: translation is the discovery server's job",
  },
  {
    when: (self) => self.name === '@weft/config',
    forbid: (target) => Boolean(target),
    reason: '@weft/config depends on nothing of ours',
  },
];

function* sourceFiles(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry !== 'node_modules' && entry !== 'dist') yield* sourceFiles(path);
    } else if (/\.(ts|mts|js|mjs)$/.test(entry)) {
      yield path;
    }
  }
}

const IMPORT_RE =
  /(?:^|[^.\w])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[^.\w])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[^.\w])import\s+['"]([^'"]+)['"]/g;

const projects = loadProjects();
const selfPkg = readJson(join(projectRoot, 'package.json'));
const self = { name: selfPkg.name, tags: selfPkg.nx?.tags ?? [] };
if (!self.tags.some((t) => t.startsWith('type:')) || !self.tags.some((t) => t.startsWith('scope:'))) {
  console.error(`${self.name}: package.json nx.tags must name a type:* and a scope:* tag`);
  process.exit(1);
}

const problems = [];
for (const dir of ['src', 'test']) {
  for (const file of sourceFiles(join(projectRoot, dir))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT_RE)) {
      const spec = match[1] ?? match[2] ?? match[3];
      const line = text.slice(0, match.index).split('\n').length;
      const where = `${relative(workspaceRoot, file)}:${line}`;
      if (spec.startsWith('.')) {
        const target = resolve(file, '..', spec);
        if (!target.startsWith(projectRoot + '/'))
          problems.push(`${where}: relative import leaves the project (${spec}); import the package by name`);
        continue;
      }
      const pkgName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      const target = projects.get(pkgName);
      if (target && spec !== pkgName) problems.push(`${where}: deep import ${spec}; import ${pkgName} only`);
      for (const rule of RULES) {
        if (rule.when(self) && rule.forbid(target && { ...target, name: pkgName }, spec)) {
          problems.push(`${where}: ${self.name} imports ${spec}: ${rule.reason}`);
        }
      }
    }
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
