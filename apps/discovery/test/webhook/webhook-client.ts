/** A real HTTPS client for the webhook tests: node:https, trusting only the given CA, checking the DNS name. */
import { request } from 'node:https';

export interface WebhookReply {
  status: number;
  text: string;
}

/** POSTs `body` to `https://<address><path>`, verifying the server certificate for `serverName` against `caPem`. */
export function postToWebhook(
  address: string,
  path: string,
  body: string,
  options: { caPem: string; serverName: string; contentType?: string },
): Promise<WebhookReply> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path,
        method: 'POST',
        ca: options.caPem,
        servername: options.serverName,
        headers: { 'content-type': options.contentType ?? 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** An AdmissionReview v1 request for `object`. */
export function admissionReview(
  object: unknown,
  options: {
    uid: string;
    kind: { group: string; version: string; kind: string };
    namespace: string;
    operation?: string;
  },
): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid,
      kind: options.kind,
      resource: {
        group: options.kind.group,
        version: options.kind.version,
        resource: `${options.kind.kind.toLowerCase()}s`,
      },
      namespace: options.namespace,
      operation: options.operation ?? 'CREATE',
      userInfo: { username: 'tester' },
      object,
      oldObject: null,
      dryRun: false,
    },
  });
}
