#!/usr/bin/env node
// The `weft-proxy` bin. It exists before the build so that `npm ci` links it (npm
// skips bins whose file is missing at install time); it runs the build output.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (existsSync(main)) {
  await import(main.href);
} else {
  process.stderr.write(
    'weft-proxy: not built yet; run "npx nx build weft-proxy" (or "npm run build") first\n',
  );
  process.exitCode = 1;
}
