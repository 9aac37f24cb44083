/**
 * Imports the built package by name, as a user outside the repo would: a plain
 * Node process with default export conditions resolves `dist/`, not `src/`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

/** The package's own name, read from package.json (the boundary lint forbids naming it in an import). */
const name: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).name;

it('is importable by name from its build output and validates', () => {
  const script = `
    const m = await import(${JSON.stringify(name)});
    const url = import.meta.resolve(${JSON.stringify(name)});
    const { objects, problems } = m.parseConfigYaml('apiVersion: networking.istio.io/v1\\nkind: DestinationRule\\nmetadata: {name: a}\\nspec: {host: a}\\n', 'a.yaml');
    console.log(JSON.stringify({ url, exports: Object.keys(m).sort(), objects: objects.length, problems: problems.length }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const { url, exports, objects, problems } = JSON.parse(out);
  expect(url).toMatch(/\/packages\/config\/dist\/index\.js$/);
  expect(exports).toEqual([
    'ConfigSourceError',
    'EXPORT_TO_ANNOTATION',
    'SERVICE_NAME_LABEL',
    'TLS_MODE_LABEL',
    'buildMeshModel',
    'configKey',
    'createConfigStore',
    'createDirectorySource',
    'createMeshModel',
    'defaultMeshConfig',
    'endpointsFromEndpointSlice',
    'formatProblem',
    'hostMatches',
    'listYamlFiles',
    'loadConfigPaths',
    'parseConfigYaml',
    'parseDuration',
    'parseProtocol',
    'protocolFromPort',
    'resolveShortHost',
    'serviceFromKubernetes',
    'spiffeId',
    'validateObject',
    'validateReferences',
    'withServiceAccounts',
    'workloadFromEntry',
  ]);
  expect({ objects, problems }).toEqual({ objects: 1, problems: 0 });
});
