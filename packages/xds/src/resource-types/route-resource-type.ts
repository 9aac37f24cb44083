/** RDS: envoy.config.route.v3.RouteConfiguration. */
import { ROUTE_TYPE_URL } from '../type-urls.ts';
import type { ResourceType } from './resource-type.ts';

export const routeResourceType: ResourceType = {
  typeUrl: ROUTE_TYPE_URL,
  messageName: 'envoy.config.route.v3.RouteConfiguration',
  shortName: 'RDS',
  fullStateInSotw: false,
  // Routes name clusters, but a route to a missing cluster is a runtime 503
  // (cluster_not_found), not an inconsistent snapshot, so none are reported.
  references: () => [],
};
