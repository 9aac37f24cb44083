/**
 * The Dockerfile, the kind script and the manifests agree: every image the
 * manifests and up.sh use is a Dockerfile target; each target starts a file
 * the app's build produces; and every flag a container passes is one its
 * app accepts (checked against the app's own --help, run from source).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/load-manifests.ts';
import { allRendered, DEPLOY_DIR, rows } from './deploy-fixtures.ts';

const ROOT = join(DEPLOY_DIR, '..');
const dockerfile = readFileSync(join(DEPLOY_DIR, 'docker/Dockerfile'), 'utf8');
const targets = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]!);
const upScript = readFileSync(join(DEPLOY_DIR, 'kind/up.sh'), 'utf8');

/** `FROM ... AS name` up to the next FROM. */
function stage(name: string): string {
  const start = dockerfile.indexOf(`AS ${name}\n`);
  const next = dockerfile.indexOf('\nFROM ', start);
  return dockerfile.slice(start, next === -1 ? undefined : next);
}

interface Container {
  name: string;
  image: string;
  args?: string[];
}

function containers(m: Manifest): Container[] {
  if (m.kind !== 'Deployment') return [];
  return (m.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;
}

const APPS: Record<string, string> = {
  'weft-discovery': 'discovery',
  'weft-ca': 'ca',
  'weft-proxy': 'proxy',
};

describe('images', () => {
  it('up.sh builds and loads exactly the Dockerfile app targets', () => {
    const images = /IMAGES=\(([^)]*)\)/.exec(upScript)![1]!.trim().split(/\s+/);
    expect(images.sort()).toEqual(targets.filter((t) => t.startsWith('weft-')).sort());
  });

  it('every image in the manifests is a Dockerfile target', () => {
    const used = new Set(allRendered.flatMap(containers).map((c) => c.image.split(':')[0]!));
    for (const image of used) expect(targets).toContain(image);
  });

  it.each(Object.entries(APPS).map(([target, app]) => ({ target, app })))(
    '$target runs apps/$app/dist/main.js, built from src/main.ts, with its workspace production dependencies',
    ({ target, app }) => {
      const body = stage(target);
      expect(body).toContain(`ENTRYPOINT ["node", "/weft/apps/${app}/dist/main.js"]`);
      expect(existsSync(join(ROOT, 'apps', app, 'src/main.ts'))).toBe(true);
      const lib = JSON.parse(readFileSync(join(ROOT, 'apps', app, 'tsconfig.lib.json'), 'utf8'));
      expect(lib.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
      expect(stage(`deps-${app}`)).toContain(
        `--omit=dev --omit=optional --ignore-scripts --workspace apps/${app}`,
      );
      expect(body).toMatch(/^USER [1-9]\d*:[1-9]\d*$/m);
      const pkg = JSON.parse(readFileSync(join(ROOT, 'apps', app, 'package.json'), 'utf8'));
      expect(stage('build')).toContain(` ${pkg.name}`);
    },
  );

  it('the proxy image carries iptables and runs as UID 1337', () => {
    expect(stage('weft-proxy')).toContain('apt-get install -y --no-install-recommends iptables');
    expect(stage('weft-proxy')).toMatch(/^USER 1337:1337$/m);
  });

  it('the build context leaves out node_modules, build output and .git', () => {
    const ignore = readFileSync(join(DEPLOY_DIR, 'docker/Dockerfile.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });
});

/** The flags an app's --help lists (`--name`). */
function helpFlags(app: string): Set<string> {
  const result = spawnSync(
    process.execPath,
    ['--conditions=@weft/source', join(ROOT, 'apps', app, 'src/main.ts'), '--help'],
    { encoding: 'utf8', timeout: 15_000 },
  );
  expect(result.status).toBe(0);
  return new Set([...result.stdout.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0]));
}

const weftContainers = allRendered.flatMap((m) =>
  containers(m)
    .filter((c) => APPS[c.image.split(':')[0]!])
    .map((c) => ({ manifest: m, container: c })),
);

describe('container arguments', () => {
  const help = new Map<string, Set<string>>();
  it.each(rows(weftContainers.map((w) => w.manifest)))(
    '$name passes only flags its app accepts',
    ({ manifest }) => {
      for (const container of containers(manifest)) {
        const app = APPS[container.image.split(':')[0]!];
        if (!app) continue;
        if (!help.has(app)) help.set(app, helpFlags(app));
        const flags = (container.args ?? []).map((arg) => arg.split('=')[0]!);
        expect(flags.filter((flag) => !help.get(app)!.has(flag))).toEqual([]);
      }
    },
  );
});
