/** Dispatches `weft <command> ...` to the registered commands. */
import { analyzeCommand } from './commands/analyze-command.ts';
import { type Command, type CommandIo, EXIT_OK, EXIT_USAGE, UsageError } from './commands/command.ts';
import { upCommand } from './commands/up-command.ts';

/** Every subcommand, in help order. Add a command by adding its module here. */
export const COMMANDS: readonly Command[] = [analyzeCommand, upCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: weft <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "weft <command> --help" for a command's options.\n`;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(help());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`weft: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`weft ${command.name}: ${err.message}\n\n${command.usage}`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
