/**
 * Small builders of valid Envoy resources for tests (shipped, so other
 * projects' tests can use them). Each returns a Resource whose body is a
 * minimal, realistic Istio-style config; `overrides` are merged into the body.
 */
import type { Resource, ResourceBody } from '../resources/resource.ts';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  SECRET_TYPE_URL,
} from '../type-urls.ts';

const ADS_SOURCE = { ads: {}, resourceApiVersion: 'V3' };

/** An EDS cluster fed over ADS (`type: EDS`, 1 s connect timeout, default ROUND_ROBIN). */
export function buildCluster(name: string, overrides: ResourceBody = {}): Resource {
  return {
    typeUrl: CLUSTER_TYPE_URL,
    name,
    body: {
      name,
      type: 'EDS',
      edsClusterConfig: { edsConfig: ADS_SOURCE },
      connectTimeout: { seconds: 1 },
      ...overrides,
    },
  };
}

/** A ClusterLoadAssignment with one locality holding `addresses` (`ip:port`). */
export function buildClusterLoadAssignment(clusterName: string, addresses: readonly string[]): Resource {
  return {
    typeUrl: ENDPOINT_TYPE_URL,
    name: clusterName,
    body: {
      clusterName,
      endpoints: [
        {
          locality: { region: 'local' },
          lbEndpoints: addresses.map((address) => {
            const [ip, port] = address.split(':');
            return { endpoint: { address: { socketAddress: { address: ip, portValue: Number(port) } } } };
          }),
        },
      ],
    },
  };
}

/** An HTTP listener on 0.0.0.0:`port` whose HttpConnectionManager takes routes `routeConfigName` over ADS. */
export function buildListener(name: string, routeConfigName: string, port = 15001): Resource {
  return {
    typeUrl: LISTENER_TYPE_URL,
    name,
    body: {
      name,
      address: { socketAddress: { address: '0.0.0.0', portValue: port } },
      filterChains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typedConfig: {
                '@type':
                  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                statPrefix: name,
                rds: { routeConfigName, configSource: ADS_SOURCE },
                httpFilters: [
                  {
                    name: 'envoy.filters.http.router',
                    typedConfig: {
                      '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                    },
                  },
                ],
              },
            },
          ],
        },
      ],
    },
  };
}

/** A RouteConfiguration with one virtual host `*` sending every path to `cluster`. */
export function buildRouteConfiguration(name: string, cluster: string): Resource {
  return {
    typeUrl: ROUTE_TYPE_URL,
    name,
    body: {
      name,
      virtualHosts: [
        {
          name: 'all',
          domains: ['*'],
          routes: [{ match: { prefix: '/' }, route: { cluster, timeout: { seconds: 15 } } }],
        },
      ],
    },
  };
}

/** A validation-context Secret holding a trust bundle PEM. */
export function buildSecret(name: string, trustedCaPem = 'test-ca'): Resource {
  return {
    typeUrl: SECRET_TYPE_URL,
    name,
    body: { name, validationContext: { trustedCa: { inlineString: trustedCaPem } } },
  };
}
