import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatProblem, type Problem } from '../validation/problem.ts';
import { createConfigStore } from './config-store.ts';
import { type DirectoryIo, defaultDirectoryIo } from './directory-files.ts';
import { createDirectorySource } from './directory-source.ts';
import type { ConfigStore, DirectorySource } from './store-types.ts';

const rule = (name: string, host = name) =>
  `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${name}}\nspec: {host: ${host}}\n`;

/** Polls `check` every 10ms for at most 5s. */
async function eventually(check: () => void): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

describe('createDirectorySource', () => {
  let dir: string;
  let store: ConfigStore;
  let source: DirectorySource;
  let reported: (readonly Problem[])[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-config-'));
    store = createConfigStore();
    reported = [];
    source = createDirectorySource({ dir, store, debounceMs: 10, onProblems: (p) => reported.push(p) });
  });

  afterEach(async () => {
    await source.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const hosts = () => store.list('DestinationRule').map((o) => `${o.metadata.name}=${o.spec.host}`);

  it('loads the directory on start and follows edits, keeping the last good objects', async () => {
    await writeFile(join(dir, 'a.yaml'), `${rule('a')}---\n${rule('b')}`);
    await writeFile(join(dir, 'notes.txt'), 'not yaml');
    await source.start();
    expect(hosts()).toEqual(['a=a', 'b=b']);
    expect(source.problems()).toEqual([]);

    // b becomes invalid: its last good version stays, a is updated.
    await writeFile(join(dir, 'a.yaml'), `${rule('a', 'a2')}---\n${rule('b', 'bad_host')}`);
    await eventually(() => expect(hosts()).toEqual(['a=a2', 'b=b']));
    expect(source.problems().map(formatProblem)).toEqual([
      `${join(dir, 'a.yaml')}:9 DestinationRule default/b: spec.host: host "bad_host" has an invalid label "bad_host"`,
    ]);

    // A YAML syntax error keeps everything the file had.
    await writeFile(join(dir, 'a.yaml'), 'kind: [\n');
    await eventually(() => expect(source.problems()[0]?.message).toMatch(/^YAML syntax error/));
    expect(hosts()).toEqual(['a=a2', 'b=b']);

    // A valid file without b deletes b.
    await writeFile(join(dir, 'a.yaml'), rule('a', 'a3'));
    await eventually(() => expect(hosts()).toEqual(['a=a3']));
    expect(source.problems()).toEqual([]);

    // Removing the file removes its objects.
    await unlink(join(dir, 'a.yaml'));
    await eventually(() => expect(hosts()).toEqual([]));
    expect(reported.length).toBeGreaterThanOrEqual(5);
  });

  it('reports duplicates across files and keeps the first file’s object', async () => {
    await writeFile(join(dir, '1.yaml'), rule('a', 'first'));
    await writeFile(join(dir, '2.yml'), rule('a', 'second'));
    await source.start();
    expect(hosts()).toEqual(['a=first']);
    expect(source.problems().map(formatProblem)).toEqual([
      `${join(dir, '2.yml')}:3 DestinationRule default/a: metadata.name: duplicate DestinationRule: also defined at ${join(dir, '1.yaml')}:1`,
    ]);
  });

  it('refuses to start on a missing directory with a stable code', async () => {
    const missing = createDirectorySource({ dir: join(dir, 'nope'), store, debounceMs: 10 });
    await expect(missing.start()).rejects.toMatchObject({
      code: 'ERR_CONFIG_DIR_UNREADABLE',
      message: `config directory ${join(dir, 'nope')}: no such directory`,
    });
    await missing.stop();
  });

  it('keeps the last good objects when the directory goes away while watching', async () => {
    const sub = join(dir, 'sub');
    await mkdir(sub);
    await writeFile(join(sub, 'a.yaml'), rule('a'));
    const watched = createDirectorySource({ dir: sub, store, debounceMs: 10 });
    await watched.start();
    await rm(sub, { recursive: true });
    await eventually(() =>
      expect(watched.problems().map(formatProblem)[0]).toMatch(/sub: cannot read directory: /),
    );
    expect(hosts()).toEqual(['a=a']);
    await watched.stop();
  });

  it('re-reads and re-parses only the file the watcher named', async () => {
    for (const name of ['a', 'b', 'c']) await writeFile(join(dir, `${name}.yaml`), rule(name));
    const parsed: string[] = [];
    const io: DirectoryIo = {
      readFile: defaultDirectoryIo.readFile,
      parse: (text, file) => {
        parsed.push(file.slice(dir.length + 1));
        return defaultDirectoryIo.parse(text, file);
      },
    };
    const counted = createDirectorySource({ dir, store, debounceMs: 10 }, io);
    await counted.start();
    expect(parsed).toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
    parsed.length = 0;
    const revision = store.revision;

    // As editors and the discovery benchmark write: a temporary file renamed over the old one.
    await writeFile(join(dir, 'b.yaml.tmp'), rule('b', 'b2'));
    await rename(join(dir, 'b.yaml.tmp'), join(dir, 'b.yaml'));
    await eventually(() => expect(hosts()).toEqual(['a=a', 'b=b2', 'c=c']));
    expect(parsed).toEqual(['b.yaml']);
    expect(store.revision).toBe(revision + 1);
    await counted.stop();
  });

  it('takes in a burst of new files, parsing only those files', async () => {
    await writeFile(join(dir, 'first.yaml'), rule('first'));
    const parsed: string[] = [];
    const io: DirectoryIo = {
      readFile: defaultDirectoryIo.readFile,
      parse: (text, file) => {
        parsed.push(file.slice(dir.length + 1));
        return defaultDirectoryIo.parse(text, file);
      },
    };
    const counted = createDirectorySource({ dir, store, debounceMs: 20 }, io);
    await counted.start();
    parsed.length = 0;
    const names = Array.from({ length: 200 }, (_, i) => `r${String(i).padStart(3, '0')}`);
    await mkdir(join(dir, 'burst'));
    await Promise.all(names.map((name) => writeFile(join(dir, 'burst', `${name}.yaml`), rule(name))));
    await eventually(() => expect(store.list('DestinationRule')).toHaveLength(201));
    // A file caught half-written by one reload is parsed again by the next, so count distinct files.
    expect([...new Set(parsed)].sort()).toEqual(names.map((name) => `burst/${name}.yaml`));
    expect(counted.problems()).toEqual([]);
    await counted.stop();
  });
});
