import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatProblem } from '../validation/problem.ts';
import {
  createDirectoryFiles,
  type DirectoryIo,
  defaultDirectoryIo,
  mergeFileObjects,
} from './directory-files.ts';

const rule = (name: string, host = name) =>
  `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${name}}\nspec: {host: ${host}}\n`;

/** Real reads and parses, recording which files (relative to `dir`) each touched. */
function countingIo(dir: string) {
  const reads: string[] = [];
  const parses: string[] = [];
  const io: DirectoryIo = {
    readFile: (path) => {
      reads.push(path.slice(dir.length + 1));
      return defaultDirectoryIo.readFile(path);
    },
    parse: (text, file) => {
      parses.push(file.slice(dir.length + 1));
      return defaultDirectoryIo.parse(text, file);
    },
  };
  const reset = () => {
    reads.length = 0;
    parses.length = 0;
  };
  return { io, reads, parses, reset };
}

describe('createDirectoryFiles', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-files-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const write = (relative: string, text: string) => writeFile(join(dir, relative), text);

  async function loaded(names: string[]) {
    for (const name of names) await write(`${name}.yaml`, rule(name));
    const counting = countingIo(dir);
    const files = createDirectoryFiles(dir, counting.io);
    await files.rescan();
    counting.reset();
    const hosts = () => files.objects().map((o) => `${o.metadata.name}=${(o.spec as { host: string }).host}`);
    return { files, hosts, ...counting };
  }

  it('refresh reads and parses only the named files, however many others changed', async () => {
    const { files, hosts, reads, parses } = await loaded(['a', 'b', 'c']);
    await write('a.yaml', rule('a', 'a2'));
    await write('b.yaml', rule('b', 'b2'));
    await files.refresh(['b.yaml']);
    expect(reads).toEqual(['b.yaml']);
    expect(parses).toEqual(['b.yaml']);
    expect(hosts()).toEqual(['a=a', 'b=b2', 'c=c']);
  });

  it('rescan reads every file but parses only those whose bytes changed', async () => {
    const { files, hosts, reads, parses } = await loaded(['a', 'b', 'c']);
    await write('a.yaml', rule('a', 'a2'));
    await write('c.yaml', rule('c'));
    await files.rescan();
    expect(reads).toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
    expect(parses).toEqual(['a.yaml']);
    expect(hosts()).toEqual(['a=a2', 'b=b', 'c=c']);
  });

  it.each([
    {
      name: 'a deleted file drops its objects',
      change: () => unlink(join(dir, 'b.yaml')),
      named: ['b.yaml'],
      parsed: [],
      hosts: ['a=a'],
    },
    {
      name: 'a new file is parsed and sorted in',
      change: () => writeFile(join(dir, '0.yaml'), rule('zero')),
      named: ['0.yaml'],
      parsed: ['0.yaml'],
      hosts: ['zero=zero', 'a=a', 'b=b'],
    },
    {
      name: 'an atomic rename reads only the target, not the temporary file',
      change: async () => {
        await writeFile(join(dir, 'a.yaml.tmp'), rule('a', 'renamed'));
        await rename(join(dir, 'a.yaml.tmp'), join(dir, 'a.yaml'));
      },
      named: ['a.yaml.tmp', 'a.yaml'],
      parsed: ['a.yaml'],
      hosts: ['a=renamed', 'b=b'],
    },
    {
      name: 'a rewrite with the same bytes is read but not parsed',
      change: () => writeFile(join(dir, 'a.yaml'), rule('a')),
      named: ['a.yaml'],
      parsed: [],
      hosts: ['a=a', 'b=b'],
    },
    {
      name: 'a path that never existed changes nothing',
      change: async () => {},
      named: ['gone.yaml', 'gone/x.yaml'],
      parsed: [],
      hosts: ['a=a', 'b=b'],
    },
    {
      name: 'a non-YAML file is not read',
      change: () => writeFile(join(dir, 'notes.txt'), 'x'),
      named: ['notes.txt'],
      parsed: [],
      hosts: ['a=a', 'b=b'],
    },
  ])('$name', async ({ change, named, parsed, hosts: expected }) => {
    const { files, hosts, reads, parses } = await loaded(['a', 'b']);
    await change();
    await files.refresh(named);
    expect(hosts()).toEqual(expected);
    expect(parses).toEqual(parsed);
    expect(reads.every((r) => named.includes(r) && r.endsWith('.yaml'))).toBe(true);
  });

  it('follows directories: a new one is listed, a renamed one moves its files, a removed one drops them', async () => {
    const { files, hosts } = await loaded(['a']);
    await mkdir(join(dir, 'sub'));
    await write('sub/s.yaml', rule('s'));
    await files.refresh(['sub']);
    expect(hosts()).toEqual(['a=a', 's=s']);

    await rename(join(dir, 'sub'), join(dir, 'moved'));
    await files.refresh(['sub', 'moved']);
    expect(files.objects().map((o) => o.source?.file)).toEqual([
      join(dir, 'a.yaml'),
      join(dir, 'moved', 's.yaml'),
    ]);

    await rm(join(dir, 'moved'), { recursive: true });
    await files.refresh(['moved']);
    expect(hosts()).toEqual(['a=a']);
  });

  it.each([
    ['an event without a file name', ''],
    ['the directory itself', '.'],
    ['an editor swap file', '.a.yaml.swp'],
    ['a ConfigMap mount swap', '..data'],
  ])('%s makes it a full rescan that parses only what changed', async (_name, path) => {
    const { files, hosts, reads, parses } = await loaded(['a', 'b']);
    await write('c.yaml', rule('c'));
    await write('b.yaml', rule('b', 'b2'));
    await files.refresh([path]);
    expect(hosts()).toEqual(['a=a', 'b=b2', 'c=c']);
    expect(reads).toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
    expect(parses).toEqual(['b.yaml', 'c.yaml']);
  });

  it('sees a ConfigMap-style update through the symlinks when only hidden entries are named', async () => {
    await mkdir(join(dir, '..v1'));
    await write('..v1/rules.yaml', rule('r', 'one'));
    await symlink('..v1', join(dir, '..data'));
    await symlink(join('..data', 'rules.yaml'), join(dir, 'rules.yaml'));
    const files = createDirectoryFiles(dir);
    await files.rescan();
    await mkdir(join(dir, '..v2'));
    await write('..v2/rules.yaml', rule('r', 'two'));
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await files.refresh(['..v2', '..v2/rules.yaml', '..data_tmp', '..data']);
    expect(files.objects().map((o) => o.spec)).toEqual([{ host: 'two' }]);
  });

  it('keeps the objects of a file it cannot read and parses it again once readable', async () => {
    await write('a.yaml', rule('a'));
    const parses: string[] = [];
    let failing = false;
    const io: DirectoryIo = {
      readFile: (path) =>
        failing
          ? Promise.reject(Object.assign(new Error('permission denied'), { code: 'EACCES' }))
          : defaultDirectoryIo.readFile(path),
      parse: (text, file) => {
        parses.push(file.slice(dir.length + 1));
        return defaultDirectoryIo.parse(text, file);
      },
    };
    const flaky = createDirectoryFiles(dir, io);
    await flaky.rescan();
    failing = true;
    await flaky.refresh(['a.yaml']);
    expect(flaky.objects().map((o) => o.metadata.name)).toEqual(['a']);
    expect(flaky.problems().map(formatProblem)).toEqual([
      `${join(dir, 'a.yaml')}: cannot read: permission denied`,
    ]);
    failing = false;
    parses.length = 0;
    await flaky.refresh(['a.yaml']);
    expect(parses).toEqual(['a.yaml']);
    expect(flaky.problems()).toEqual([]);
    expect(flaky.objects().map((o) => o.metadata.name)).toEqual(['a']);
  });

  it('rejects a rescan of a missing directory and keeps what it had', async () => {
    const { files, hosts } = await loaded(['a']);
    await rm(dir, { recursive: true });
    await expect(files.rescan()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(hosts()).toEqual(['a=a']);
  });
});

describe('mergeFileObjects', () => {
  const object = (name: string, host: string) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule' as const,
    metadata: { name, namespace: 'default' },
    spec: { host },
  });
  const id = (name: string) => ({ kind: 'DestinationRule', namespace: 'default', name });

  it.each([
    [
      'a complete read drops vanished objects',
      { objects: [object('a', '2')], rejected: [], incomplete: false },
      ['a=2'],
    ],
    [
      'a rejected object keeps its last good version',
      { objects: [], rejected: [id('b')], incomplete: false },
      ['b=1'],
    ],
    [
      'an incomplete read keeps everything not re-read',
      { objects: [object('a', '2')], rejected: [], incomplete: true },
      ['a=2', 'b=1'],
    ],
  ])('%s', (_name, parsed, expected) => {
    const merged = mergeFileObjects([object('a', '1'), object('b', '1')], parsed);
    expect(merged.map((o) => `${o.metadata.name}=${(o.spec as { host: string }).host}`)).toEqual(expected);
  });
});
