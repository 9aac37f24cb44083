/** LDS: envoy.config.listener.v3.Listener. */
import { LISTENER_TYPE_URL, ROUTE_TYPE_URL, SECRET_TYPE_URL } from '../type-urls.ts';
import type { ResourceReference, ResourceType } from './resource-type.ts';
import { forEachObject, sdsSecretNames, stringField } from './walk-body.ts';

const HCM_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

export const listenerResourceType: ResourceType = {
  typeUrl: LISTENER_TYPE_URL,
  messageName: 'envoy.config.listener.v3.Listener',
  shortName: 'LDS',
  fullStateInSotw: true,
  references(body) {
    const refs: ResourceReference[] = [];
    forEachObject(body, (object) => {
      if (object['@type'] !== HCM_TYPE) return;
      const name = stringField(object.rds, 'routeConfigName');
      if (name) refs.push({ typeUrl: ROUTE_TYPE_URL, name });
    });
    for (const name of sdsSecretNames(body)) refs.push({ typeUrl: SECRET_TYPE_URL, name });
    return refs;
  },
};
