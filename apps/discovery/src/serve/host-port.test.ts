import { describe, expect, it } from 'vitest';
import { formatHostPort, parseHostPort } from './host-port.ts';

describe('parseHostPort', () => {
  it.each([
    ['host and port', '127.0.0.1:15010', { host: '127.0.0.1', port: 15010 }],
    ['a name', 'localhost:0', { host: 'localhost', port: 0 }],
    ['all interfaces', ':15014', { host: '0.0.0.0', port: 15014 }],
    ['IPv6 in brackets', '[::1]:8080', { host: '::1', port: 8080 }],
  ])('reads %s', (_name, text, value) => {
    expect(parseHostPort(text)).toEqual({ ok: true, value });
  });

  it.each([
    ['no port', 'localhost'],
    ['an empty port', 'localhost:'],
    ['a port over 65535', 'localhost:65536'],
    ['an unbracketed IPv6 address', '::1:80'],
    ['a non-numeric port', 'host:http'],
  ])('refuses %s', (_name, text) => {
    expect(parseHostPort(text).ok).toBe(false);
  });

  it.each([
    [{ host: '10.0.0.1', port: 1 }, '10.0.0.1:1'],
    [{ host: '::1', port: 2 }, '[::1]:2'],
  ])('formats %o as %s, which parses back', (value, text) => {
    expect(formatHostPort(value)).toBe(text);
    expect(parseHostPort(text)).toEqual({ ok: true, value });
  });
});
