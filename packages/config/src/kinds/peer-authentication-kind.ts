/**
 * PeerAuthentication: schema and semantic checks.
 *
 * @see https://istio.io/latest/docs/reference/config/security/peer_authentication/
 */
import type { PeerAuthenticationSpec } from '../resources/security-types.ts';
import type { Reporter } from '../schema/reporter.ts';
import { enumOf, map, object } from '../schema/schema.ts';
import { labelSelector } from './common-schemas.ts';
import { type KindDefinition, SECURITY_GROUP, SECURITY_VERSIONS } from './kind-definition.ts';

const mutualTls = object({ mode: enumOf(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']) });

const spec = object({
  selector: labelSelector,
  mtls: mutualTls,
  portLevelMtls: map(mutualTls, {
    key: (key, path, report) => {
      const port = Number(key);
      if (!/^\d+$/.test(key) || port < 1 || port > 65535)
        report.error(path, `port ${JSON.stringify(key)} must be a number in 1..65535`);
    },
  }),
});

function semantic(pa: PeerAuthenticationSpec, { report }: { report: Reporter }): void {
  const selected = Object.keys(pa.selector?.matchLabels ?? {}).length > 0;
  if (pa.portLevelMtls && Object.keys(pa.portLevelMtls).length === 0) {
    report.error('spec.portLevelMtls', 'must list at least one port when set');
  }
  if (pa.portLevelMtls && Object.keys(pa.portLevelMtls).length > 0 && !selected) {
    report.error('spec.portLevelMtls', 'portLevelMtls requires a selector with matchLabels');
  }
}

export const peerAuthenticationKind: KindDefinition<'PeerAuthentication'> = {
  kind: 'PeerAuthentication',
  group: SECURITY_GROUP,
  versions: SECURITY_VERSIONS,
  spec,
  semantic,
};
