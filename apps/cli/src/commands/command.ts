/** The shape every `weft` subcommand has, so new ones (`up`, `proxy-status`) are one file each. */

/** Where a command writes; injected so tests can capture output. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Exit codes shared by all commands. */
export const EXIT_OK = 0;
/** The command ran and found a failure (e.g. configuration errors). */
export const EXIT_FAILURE = 1;
/** Bad flags or arguments. */
export const EXIT_USAGE = 2;

export interface Command {
  name: string;
  /** One line for `weft --help`. */
  summary: string;
  /** Full help for `weft <name> --help`. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: readonly string[], io: CommandIo): Promise<number>;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
