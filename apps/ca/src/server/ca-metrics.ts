/**
 * The CA's Prometheus metrics (served at `/metrics`):
 * `weft_ca_csr_received_total`, `weft_ca_certificates_issued_total`,
 * `weft_ca_csr_rejected_total{reason}` and the histogram
 * `weft_ca_signing_duration_seconds` (CSR check + certificate build + sign).
 */
import type { MetricsRegistry } from '@weft/telemetry';
import type { RejectReason } from '../signing/ca-errors.ts';

export interface CaMetrics {
  received(): void;
  issued(signingSeconds: number): void;
  rejected(reason: RejectReason): void;
}

export function createCaMetrics(registry: MetricsRegistry): CaMetrics {
  const { meter } = registry;
  const received = meter.createCounter('weft_ca_csr_received', {
    description: 'CreateCertificate requests received',
  });
  const issued = meter.createCounter('weft_ca_certificates_issued', { description: 'Certificates issued' });
  const rejected = meter.createCounter('weft_ca_csr_rejected', {
    description: 'Requests refused, by reason',
  });
  const latency = meter.createHistogram('weft_ca_signing_duration_seconds', {
    description: 'Time to check a CSR and build and sign its certificate, in seconds',
    advice: { explicitBucketBoundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] },
  });
  return {
    received: () => received.add(1),
    issued: (seconds) => {
      issued.add(1);
      latency.record(seconds);
    },
    rejected: (reason) => rejected.add(1, { reason }),
  };
}
