/** SDS: envoy.extensions.transport_sockets.tls.v3.Secret. */
import { SECRET_TYPE_URL } from '../type-urls.ts';
import type { ResourceType } from './resource-type.ts';

export const secretResourceType: ResourceType = {
  typeUrl: SECRET_TYPE_URL,
  messageName: 'envoy.extensions.transport_sockets.tls.v3.Secret',
  shortName: 'SDS',
  fullStateInSotw: false,
  references: () => [],
};
