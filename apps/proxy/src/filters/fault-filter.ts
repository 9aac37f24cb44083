/**
 * The fault filter (envoy.filters.http.fault): delays and/or aborts a
 * fraction of requests. The route's (or virtual host's) typedPerFilterConfig
 * wins over the filter's own config. Delay first, then abort, as Envoy.
 */
import type { FaultConfig } from '../config/http-filter-config.ts';
import type { HttpFilter, HttpStream } from '../http/http-stream.ts';
import { ResponseFlag } from '../http/response-flags.ts';
import { headerValue } from '../http/router.ts';

function faultFor(stream: HttpStream): FaultConfig | undefined {
  const fault = stream.route?.filters.fault ?? stream.hcm.config.fault;
  if (!fault) return undefined;
  for (const h of fault.headers) if (!h.test(headerValue(stream.req.headers, h.name))) return undefined;
  return fault;
}

function abortIfDue(stream: HttpStream, fault: FaultConfig): boolean {
  const abort = fault.abort;
  if (!abort || stream.hcm.services.random() >= abort.fraction) return false;
  if (abort.grpcStatus !== undefined && stream.isGrpc) {
    stream.addFlag(ResponseFlag.FaultInjected);
    stream.writeHeaders(200, {
      'content-type': 'application/grpc',
      'grpc-status': String(abort.grpcStatus),
      'grpc-message': 'fault filter abort',
    });
    stream.finish();
    return true;
  }
  stream.localReply(abort.httpStatus, 'fault filter abort', ResponseFlag.FaultInjected);
  return true;
}

export const faultFilter: HttpFilter = {
  name: 'fault',
  onRequest(stream) {
    const fault = faultFor(stream);
    if (!fault) return 'continue';
    const delay = fault.delay;
    if (delay && stream.hcm.services.random() < delay.fraction) {
      stream.addFlag(ResponseFlag.DelayInjected);
      const timer = stream.hcm.services.setTimer(() => {
        if (!abortIfDue(stream, fault)) stream.continueDecoding();
      }, delay.ms);
      stream.onComplete(() => stream.hcm.services.clearTimer(timer));
      return 'stop';
    }
    return abortIfDue(stream, fault) ? 'stop' : 'continue';
  },
};
