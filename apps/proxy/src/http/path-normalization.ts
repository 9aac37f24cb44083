/**
 * Path normalization before routing, as the HTTP connection manager's
 * `normalize_path` (RFC 3986 section 5.2.4 dot-segment removal, also of
 * percent-encoded unreserved characters' plain forms) and `merge_slashes`
 * do. Only the path is changed; the query string is kept as is. The common
 * case (nothing to do) costs two indexOf calls.
 */

/** Removes `.` and `..` segments (RFC 3986 remove_dot_segments) from an absolute path. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '.') {
      if (i === segments.length - 1) out.push('');
    } else if (segment === '..') {
      out.pop();
      if (i === segments.length - 1) out.push('');
    } else out.push(segment);
  }
  return `/${out.join('/')}`;
}

/** Returns `fullPath` (path plus optional query) normalized per the flags. */
export function normalizeRequestPath(fullPath: string, normalize: boolean, mergeSlashes: boolean): string {
  const q = fullPath.indexOf('?');
  let path = q < 0 ? fullPath : fullPath.slice(0, q);
  const dirty = (normalize && path.includes('/.')) || (mergeSlashes && path.includes('//'));
  if (!dirty) return fullPath;
  if (mergeSlashes) path = path.replace(/\/{2,}/g, '/');
  if (normalize) path = removeDotSegments(path);
  return q < 0 ? path : path + fullPath.slice(q);
}
