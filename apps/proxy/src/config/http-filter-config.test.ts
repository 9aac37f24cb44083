import { describe, expect, it } from 'vitest';
import { compileHeaderMutation } from './http-filter-config.ts';
import { type Body, ProblemList } from './problems.ts';

function option(key: string, value: string, extra: Body = {}): Body {
  return { header: { key, value }, ...extra };
}

function compile(options: Body[], removals: string[] = []) {
  const problems = new ProblemList();
  const mutation = compileHeaderMutation(
    { requestHeadersToAdd: options, requestHeadersToRemove: removals },
    'request',
    'route',
    problems,
  );
  return { mutation, problems: problems.items.map((p) => `${p.path}: ${p.message}`) };
}

describe('compileHeaderMutation', () => {
  it('lowercases names and maps append to an action', () => {
    const { mutation, problems } = compile(
      [option('X-Env', 'prod'), option('x-keep', 'v', { append: { value: false } })],
      ['X-Drop'],
    );
    expect(problems).toEqual([]);
    expect(mutation).toEqual({
      add: [
        { name: 'x-env', value: 'prod', action: 'APPEND_IF_EXISTS_OR_ADD' },
        { name: 'x-keep', value: 'v', action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      ],
      remove: ['x-drop'],
    });
  });

  it.each([
    { name: 'a CRLF in a value', header: option('x-a', 'v\r\nx-injected: 1'), problem: 'header.value' },
    { name: 'a bare LF in a value', header: option('x-a', 'v\nw'), problem: 'header.value' },
    { name: 'a NUL in a value', header: option('x-a', 'v\u0000'), problem: 'header.value' },
    { name: 'a space in a name', header: option('x a', 'v'), problem: 'header.key' },
    { name: 'a colon in a name', header: option('x:a', 'v'), problem: 'header.key' },
    { name: 'a pseudo-header', header: option(':path', '/'), problem: 'header.key' },
    { name: 'host', header: option('Host', 'evil'), problem: 'header.key' },
  ])('rejects $name with its field path', ({ header, problem }) => {
    const { mutation, problems } = compile([option('x-ok', 'fine'), header]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^route\\.requestHeadersToAdd\\[1\\]\\.${problem}: `));
    expect(mutation.add.map((a) => a.name)).toEqual(['x-ok']);
  });
});
