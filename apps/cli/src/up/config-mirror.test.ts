import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filterIdentityDocuments, mirrorOnce, PLAINTEXT_FILE } from './config-mirror.ts';

const doc = (kind: string, name: string) =>
  `apiVersion: x/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec: {}\n`;

describe('filterIdentityDocuments', () => {
  it('leaves out identity kinds and keeps everything else as written', () => {
    const text = [
      doc('VirtualService', 'a'),
      doc('PeerAuthentication', 'default'),
      doc('AuthorizationPolicy', 'p'),
    ].join('---\n');
    const filtered = filterIdentityDocuments(text, 'x.yaml');
    expect(filtered.leftOut).toEqual([
      'PeerAuthentication default (x.yaml)',
      'AuthorizationPolicy p (x.yaml)',
    ]);
    expect(filtered.text).toContain('kind: VirtualService');
    expect(filtered.text).not.toMatch(/PeerAuthentication|AuthorizationPolicy/);
  });
});

describe('mirrorOnce', () => {
  it('copies filtered YAML, adds the plaintext PeerAuthentication, and removes files deleted at the source', async () => {
    const source = await mkdtemp(join(tmpdir(), 'mirror-src-'));
    const target = join(await mkdtemp(join(tmpdir(), 'mirror-dst-')), 'config');
    await writeFile(join(source, 'a.yaml'), doc('VirtualService', 'a'));
    await writeFile(join(source, 'b.yaml'), doc('RequestAuthentication', 'jwt'));
    await writeFile(join(source, 'notes.txt'), 'ignored');
    expect((await mirrorOnce(source, target)).leftOut).toEqual(['RequestAuthentication jwt (b.yaml)']);
    expect((await readdir(target)).sort()).toEqual(['a.yaml', 'b.yaml', PLAINTEXT_FILE]);
    expect(await readFile(join(target, PLAINTEXT_FILE), 'utf8')).toContain('mode: DISABLE');
    await writeFile(join(source, 'a.yaml'), doc('VirtualService', 'renamed'));
    await writeFile(join(source, 'b.yaml'), '');
    await mirrorOnce(source, target);
    expect(await readFile(join(target, 'a.yaml'), 'utf8')).toContain('name: renamed');
  });
});
