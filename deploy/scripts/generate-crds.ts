/**
 * Rewrites deploy/kubernetes/crds/istio-crds.yaml from src/crd-schemas.ts.
 * Run: `npm run generate -w deploy`.
 */
import { writeFileSync } from 'node:fs';
import { renderCrdFile } from '../src/render-crds.ts';

const target = new URL('../kubernetes/crds/istio-crds.yaml', import.meta.url);
writeFileSync(target, renderCrdFile());
process.stdout.write(`wrote ${target.pathname}\n`);
