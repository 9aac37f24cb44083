import { describe, expect, it } from 'vitest';
import { mergePrometheus, sumClusters, sumStats } from './aggregate-admin.ts';

describe('aggregating worker admin views', () => {
  it('sums /stats counters by name', () => {
    const merged = sumStats([
      'cluster.a.upstream_rq_total: 3\ncluster.a.upstream_rq_5xx: 1\n',
      'cluster.a.upstream_rq_total: 4\ncluster.b.upstream_rq_total: 2\n',
    ]);
    expect(merged).toBe(
      'cluster.a.upstream_rq_total: 7\ncluster.a.upstream_rq_5xx: 1\ncluster.b.upstream_rq_total: 2\n',
    );
  });

  it('sums /clusters request counters and keeps settings from the first worker', () => {
    const merged = sumClusters([
      'a::default_priority::max_requests::1024\na::127.0.0.1:80::rq_total::5\na::127.0.0.1:80::weight::1\n',
      'a::default_priority::max_requests::1024\na::127.0.0.1:80::rq_total::6\na::127.0.0.1:80::weight::1\n',
    ]);
    expect(merged).toBe(
      'a::default_priority::max_requests::1024\na::127.0.0.1:80::rq_total::11\na::127.0.0.1:80::weight::1\n',
    );
  });

  it('sums equal Prometheus series and keeps HELP/TYPE once', () => {
    const worker = (n: number) =>
      `# HELP weft_proxy_requests_total Requests\n# TYPE weft_proxy_requests_total counter\nweft_proxy_requests_total{cluster="a",response_code="200"} ${n}\n`;
    const merged = mergePrometheus([
      worker(2),
      worker(5),
      'weft_proxy_requests_total{cluster="b",response_code="200"} 1\n',
    ]);
    expect(merged).toBe(
      '# HELP weft_proxy_requests_total Requests\n# TYPE weft_proxy_requests_total counter\n' +
        'weft_proxy_requests_total{cluster="a",response_code="200"} 7\n' +
        'weft_proxy_requests_total{cluster="b",response_code="200"} 1\n',
    );
  });
});
