import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listYamlFiles, loadConfigPaths } from './load-config-paths.ts';

const rule = (name: string) =>
  `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${name}}\nspec: {host: ${name}}\n`;

describe('listYamlFiles and loadConfigPaths', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-paths-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists *.yaml and *.yml recursively, sorted, skipping hidden entries and other files', async () => {
    await mkdir(join(dir, 'b'));
    await mkdir(join(dir, '.git'));
    await writeFile(join(dir, 'b', 'z.yml'), rule('z'));
    await writeFile(join(dir, 'a.yaml'), rule('a'));
    await writeFile(join(dir, '.hidden.yaml'), rule('h'));
    await writeFile(join(dir, '.git', 'x.yaml'), rule('x'));
    await writeFile(join(dir, 'notes.md'), '# no');
    expect((await listYamlFiles(dir)).map((f) => f.slice(dir.length + 1))).toEqual(['a.yaml', 'b/z.yml']);
  });

  it('follows symlinked files as a Kubernetes ConfigMap mount lays them out', async () => {
    await mkdir(join(dir, '..2024_01_01'));
    await writeFile(join(dir, '..2024_01_01', 'rules.yaml'), rule('mounted'));
    await symlink('..2024_01_01', join(dir, '..data'));
    await symlink(join('..data', 'rules.yaml'), join(dir, 'rules.yaml'));
    await symlink('missing.yaml', join(dir, 'dangling.yaml'));
    const { objects, problems } = await loadConfigPaths([dir]);
    expect(problems).toEqual([]);
    expect(objects.map((o) => o.metadata.name)).toEqual(['mounted']);
  });

  it('loads single files and reports unreadable paths without rejecting', async () => {
    await writeFile(join(dir, 'one.yaml'), rule('one'));
    const { objects, problems } = await loadConfigPaths([join(dir, 'one.yaml'), join(dir, 'nope')]);
    expect(objects.map((o) => o.metadata.name)).toEqual(['one']);
    expect(problems.map((p) => p.message)).toEqual([
      `${join(dir, 'nope')}: cannot read: no such file or directory`,
    ]);
  });
});
