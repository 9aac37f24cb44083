/** `HOST:PORT` flag values. */

export interface HostPort {
  host: string;
  port: number;
}

export type ParseHostPortResult = { ok: true; value: HostPort } | { ok: false; message: string };

/**
 * Parses `HOST:PORT`, `[IPV6]:PORT` or `:PORT` (all interfaces). Port 0 asks
 * the OS for a free port. Never throws.
 */
export function parseHostPort(text: string): ParseHostPortResult {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (match === null) return { ok: false, message: `"${text}" is not HOST:PORT` };
  const port = Number(match[3]);
  if (port > 65535) return { ok: false, message: `port ${port} in "${text}" is out of range 0-65535` };
  const host = match[1] ?? (match[2] === '' ? '0.0.0.0' : match[2]!);
  return { ok: true, value: { host, port } };
}

/** Formats an address for logs and for gRPC targets (`[::1]:15010` for IPv6). */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
