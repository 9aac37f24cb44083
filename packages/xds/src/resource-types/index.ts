/** The registry of resource types, by type URL. */
import type { TypeUrl } from '../type-urls.ts';
import { clusterResourceType } from './cluster-resource-type.ts';
import { endpointResourceType } from './endpoint-resource-type.ts';
import { listenerResourceType } from './listener-resource-type.ts';
import type { ResourceType } from './resource-type.ts';
import { routeResourceType } from './route-resource-type.ts';
import { secretResourceType } from './secret-resource-type.ts';

export type { ResourceReference, ResourceType } from './resource-type.ts';

export const RESOURCE_TYPES: Readonly<Record<TypeUrl, ResourceType>> = {
  [listenerResourceType.typeUrl]: listenerResourceType,
  [routeResourceType.typeUrl]: routeResourceType,
  [clusterResourceType.typeUrl]: clusterResourceType,
  [endpointResourceType.typeUrl]: endpointResourceType,
  [secretResourceType.typeUrl]: secretResourceType,
} as Record<TypeUrl, ResourceType>;

/** The resource type for a type URL. */
export function resourceType(typeUrl: TypeUrl): ResourceType {
  return RESOURCE_TYPES[typeUrl];
}
