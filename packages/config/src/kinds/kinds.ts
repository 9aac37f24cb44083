/** The registry of kinds Weft reads, by kind name. */
import type { Kind } from '../resources/resource-types.ts';
import { authorizationPolicyKind } from './authorization-policy-kind.ts';
import { destinationRuleKind } from './destination-rule-kind.ts';
import { gatewayKind } from './gateway-kind.ts';
import type { KindDefinition } from './kind-definition.ts';
import { peerAuthenticationKind } from './peer-authentication-kind.ts';
import { requestAuthenticationKind } from './request-authentication-kind.ts';
import { serviceEntryKind, workloadEntryKind } from './service-entry-kind.ts';
import { sidecarKind } from './sidecar-kind.ts';
import { virtualServiceKind } from './virtual-service-kind.ts';

export const KINDS: { readonly [K in Kind]: KindDefinition<K> } = {
  VirtualService: virtualServiceKind,
  DestinationRule: destinationRuleKind,
  Gateway: gatewayKind,
  ServiceEntry: serviceEntryKind,
  WorkloadEntry: workloadEntryKind,
  Sidecar: sidecarKind,
  PeerAuthentication: peerAuthenticationKind,
  AuthorizationPolicy: authorizationPolicyKind,
  RequestAuthentication: requestAuthenticationKind,
};

export function isKind(value: string): value is Kind {
  return Object.hasOwn(KINDS, value);
}
