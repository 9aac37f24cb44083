import { createSelfSignedRoot } from '@weft/pki';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_BUNDLE_CERTIFICATES, mergeCaBundle } from './ca-bundle-sync.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const certificatesIn = (bundle: string) =>
  Buffer.from(bundle, 'base64')
    .toString('utf8')
    .match(/BEGIN CERTIFICATE/g)?.length ?? 0;

describe('mergeCaBundle', () => {
  const roots: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < MAX_BUNDLE_CERTIFICATES + 1; i++) {
      roots.push((await createSelfSignedRoot({ subject: { commonName: `root ${i}` } })).certPem);
    }
  });

  it('sets the bundle when there is none', () => {
    expect(certificatesIn(mergeCaBundle(undefined, roots[0] ?? ''))).toBe(1);
  });

  it('returns the same bundle when it already holds the CA', () => {
    const bundle = b64(`${roots[1]}${roots[0]}`);
    expect(mergeCaBundle(bundle, roots[0] ?? '')).toBe(bundle);
  });

  it('appends to the certificates of other replicas and keeps only the newest', () => {
    let bundle: string | undefined;
    for (const root of roots) bundle = mergeCaBundle(bundle, root);
    expect(certificatesIn(bundle ?? '')).toBe(MAX_BUNDLE_CERTIFICATES);
    const text = Buffer.from(bundle ?? '', 'base64').toString('utf8');
    expect(text.endsWith(`${roots.at(-1)?.trim()}\n`)).toBe(true);
    expect(text).not.toContain(roots[0]?.trim());
  });
});
