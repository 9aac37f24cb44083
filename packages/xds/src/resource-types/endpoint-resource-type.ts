/** EDS: envoy.config.endpoint.v3.ClusterLoadAssignment. */
import { ENDPOINT_TYPE_URL } from '../type-urls.ts';
import type { ResourceType } from './resource-type.ts';

export const endpointResourceType: ResourceType = {
  typeUrl: ENDPOINT_TYPE_URL,
  messageName: 'envoy.config.endpoint.v3.ClusterLoadAssignment',
  shortName: 'EDS',
  fullStateInSotw: false,
  references: () => [],
};
