/** CDS: envoy.config.cluster.v3.Cluster. */
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, SECRET_TYPE_URL } from '../type-urls.ts';
import type { ResourceReference, ResourceType } from './resource-type.ts';
import { sdsSecretNames, stringField } from './walk-body.ts';

export const clusterResourceType: ResourceType = {
  typeUrl: CLUSTER_TYPE_URL,
  messageName: 'envoy.config.cluster.v3.Cluster',
  shortName: 'CDS',
  fullStateInSotw: true,
  references(body) {
    const refs: ResourceReference[] = [];
    if (body.type === 'EDS') {
      // The ClusterLoadAssignment is named by eds_cluster_config.service_name, else the cluster name.
      const name = stringField(body.edsClusterConfig, 'serviceName') ?? stringField(body, 'name');
      if (name) refs.push({ typeUrl: ENDPOINT_TYPE_URL, name });
    }
    for (const name of sdsSecretNames(body)) refs.push({ typeUrl: SECRET_TYPE_URL, name });
    return refs;
  },
};
