import { describe, expect, it } from 'vitest';
import { relaunchArgs } from './v8-flags.ts';

const argv = (...args: string[]) => ['/usr/bin/node', '/app/dist/main.js', ...args];

describe('relaunchArgs', () => {
  it.each([
    {
      name: 'adds the heap flag before the node arguments and the script',
      argv: argv('--discovery', 'x:1'),
      execArgv: ['--cpu-prof'],
      nodeOptions: undefined,
      want: ['--max-semi-space-size=8', '--cpu-prof', '/app/dist/main.js', '--discovery', 'x:1'],
    },
    {
      name: 'keeps a value the user gave on the command line',
      argv: argv(),
      execArgv: ['--max-semi-space-size=2'],
      nodeOptions: undefined,
      want: undefined,
    },
    {
      name: 'keeps a value the user gave in NODE_OPTIONS (underscores too)',
      argv: argv(),
      execArgv: [],
      nodeOptions: '--enable-source-maps --max_semi_space_size=32',
      want: undefined,
    },
    {
      name: 'leaves --help alone',
      argv: argv('--help'),
      execArgv: [],
      nodeOptions: undefined,
      want: undefined,
    },
    {
      name: 'leaves the iptables subcommand alone',
      argv: argv('iptables', '--proxy-uid', '1337'),
      execArgv: [],
      nodeOptions: undefined,
      want: undefined,
    },
  ])('$name', ({ argv, execArgv, nodeOptions, want }) => {
    expect(relaunchArgs(argv, execArgv, nodeOptions)).toEqual(want);
  });
});
