/**
 * The original destination of a connection that iptables REDIRECTed to the
 * proxy: `getsockopt(fd, SOL_IP, SO_ORIGINAL_DST)` (IPv6:
 * `getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST)`) asks conntrack for the
 * address the client dialled before NAT. Node has no API for it, so the call
 * goes through koffi (FFI to libc) on the socket's file descriptor.
 *
 * A connection that was not redirected (local mode, a direct connection to
 * the listener) makes getsockopt fail with ENOENT; its original destination
 * is then its local address, as in Envoy's original_dst listener filter.
 */
import type { Socket } from 'node:net';

/** An IP literal and port. */
export interface SocketAddress {
  readonly host: string;
  readonly port: number;
}

/** Where a recovered destination came from: conntrack, or the socket's own local address. */
export type OriginalDstSource = 'conntrack' | 'local';

export interface OriginalDestination extends SocketAddress {
  readonly source: OriginalDstSource;
}

/** Reads a connection's original destination; never throws. */
export type OriginalDstReader = (socket: Socket) => OriginalDestination;

const SOL_IP = 0;
const SOL_IPV6 = 41;
/** SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST share the number 80 (linux/netfilter_ipv4.h, netfilter_ipv6/ip6_tables.h). */
const SO_ORIGINAL_DST = 80;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCKADDR_IN6_SIZE = 28;

/**
 * Decodes a `struct sockaddr_in` or `struct sockaddr_in6` (family in host
 * byte order, port and address in network byte order), or undefined when the
 * family is neither or the buffer is too short.
 */
export function parseSockaddr(buffer: Uint8Array, length: number): SocketAddress | undefined {
  if (length < 8) return undefined;
  const view = new DataView(buffer.buffer, buffer.byteOffset, length);
  const family = view.getUint16(0, true);
  const port = view.getUint16(2, false);
  if (family === AF_INET) {
    return { host: `${buffer[4]}.${buffer[5]}.${buffer[6]}.${buffer[7]}`, port };
  }
  if (family === AF_INET6 && length >= 24) {
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(view.getUint16(8 + i * 2, false).toString(16));
    return { host: compressIpv6(groups), port };
  }
  return undefined;
}

/** RFC 5952 text form: the longest run (2 or more) of zero groups becomes `::`; IPv4-mapped stays dotted. */
function compressIpv6(groups: string[]): string {
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const hi = Number.parseInt(groups[6]!, 16);
    const lo = Number.parseInt(groups[7]!, 16);
    return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

/** The libc call, bound once; undefined where koffi or libc cannot be loaded (not Linux/glibc). */
type GetSockOpt = (fd: number, level: number, name: number, value: Uint8Array, length: Uint32Array) => number;

export interface SockoptBinding {
  readonly getsockopt: GetSockOpt;
  /** errno of the last failed call on this thread. */
  errno(): number;
}

/** Loads libc's getsockopt through koffi; undefined (with the reason) where that is impossible. */
export async function loadSockoptBinding(): Promise<
  { ok: true; binding: SockoptBinding } | { ok: false; reason: string }
> {
  if (process.platform !== 'linux')
    return { ok: false, reason: `SO_ORIGINAL_DST needs Linux, not ${process.platform}` };
  try {
    const koffi = (await import('koffi')).default;
    const libc = koffi.load('libc.so.6');
    const getsockopt = libc.func(
      // Raw pointers: koffi passes typed arrays without copying (about 0.3 us less per call than _Out_/_Inout_).
      'int getsockopt(int fd, int level, int name, void *value, void *length)',
    ) as GetSockOpt;
    return { ok: true, binding: { getsockopt, errno: () => koffi.errno() } };
  } catch (error) {
    return { ok: false, reason: `cannot load getsockopt through koffi: ${(error as Error).message}` };
  }
}

function fdOf(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

function isIpv4(address: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(address) || address.startsWith('::ffff:');
}

/**
 * A reader that asks conntrack through `binding` (when given) and falls back
 * to the socket's local address. IPv4 sockets (and IPv4-mapped addresses on
 * dual-stack sockets) use SOL_IP, IPv6 ones SOL_IPV6. One 28-byte buffer is
 * reused: the reader is synchronous and not re-entrant.
 */
export function createOriginalDstReader(binding: SockoptBinding | undefined): OriginalDstReader {
  const value = new Uint8Array(SOCKADDR_IN6_SIZE);
  const length = new Uint32Array(1);
  return (socket) => {
    const local = { host: socket.localAddress ?? '', port: socket.localPort ?? 0, source: 'local' as const };
    const fd = binding ? fdOf(socket) : undefined;
    if (!binding || fd === undefined) return local;
    length[0] = SOCKADDR_IN6_SIZE;
    const level = isIpv4(local.host) ? SOL_IP : SOL_IPV6;
    if (binding.getsockopt(fd, level, SO_ORIGINAL_DST, value, length) !== 0) return local;
    const address = parseSockaddr(value, length[0] ?? 0);
    return address ? { ...address, source: 'conntrack' } : local;
  };
}

const destinations = new WeakMap<Socket, OriginalDestination>();

/** Remembers the destination a capture listener recovered for `socket` (read by ORIGINAL_DST clusters). */
export function setOriginalDestination(socket: Socket, destination: OriginalDestination): void {
  destinations.set(socket, destination);
}

/**
 * The destination conntrack reported for `socket` (recovered by a capture
 * listener), or undefined: a connection that was not redirected has no
 * original destination to pass through to (its local address is the proxy
 * itself, and connecting there would loop).
 */
export function originalDestinationOf(socket: Socket): SocketAddress | undefined {
  const destination = destinations.get(socket);
  return destination?.source === 'conntrack' ? destination : undefined;
}
