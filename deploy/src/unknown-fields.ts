/**
 * Fields of a built-in Kubernetes object that its API does not define (a
 * typo such as `readinesProbe`). The OpenAPI validators in
 * `kubernetes-models` accept unknown fields, while `kubectl apply` (strict
 * field validation, the default since Kubernetes 1.27) rejects them; this
 * walks the object along the model classes of @kubernetes/client-node,
 * whose attribute type maps list every field of every API type.
 */
import * as k8s from '@kubernetes/client-node';
import type { Finding } from './validate-manifests.ts';

interface Attribute {
  baseName: string;
  type: string;
}

type ModelClass = { getAttributeTypeMap(): Attribute[] };

function modelClass(typeName: string): ModelClass | undefined {
  const candidate = (k8s as unknown as Record<string, unknown>)[typeName];
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate
    ? (candidate as unknown as ModelClass)
    : undefined;
}

/** The client-node class name of `apiVersion`/`kind`: `apps/v1` Deployment → `V1Deployment`. */
export function modelTypeName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').at(-1)!;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
}

function walk(value: unknown, typeName: string, path: string, findings: Finding[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array) {
    if (!Array.isArray(value)) return;
    for (const [i, item] of value.entries()) walk(item, array[1]!, `${path}/${i}`, findings);
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (map) {
    if (typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) walk(item, map[1]!, `${path}/${key}`, findings);
    }
    return;
  }
  const model = modelClass(typeName);
  if (!model || typeof value !== 'object' || Array.isArray(value)) return;
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value)) {
    const type = attributes.get(key);
    if (type === undefined) findings.push({ path: `${path}/${key}`, message: `unknown field "${key}"` });
    else walk(item, type, `${path}/${key}`, findings);
  }
}

/**
 * Unknown fields of a built-in object, with JSON-pointer paths; [] when every
 * field is defined or the type is not in @kubernetes/client-node.
 */
export function unknownFields(
  object: Record<string, unknown> & { apiVersion: string; kind: string },
): Finding[] {
  const findings: Finding[] = [];
  walk(object, modelTypeName(object.apiVersion, object.kind), '', findings);
  return findings;
}
