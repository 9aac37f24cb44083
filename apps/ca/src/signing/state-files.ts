/**
 * File writes the CA's state needs: created once, never half-written, keys
 * readable by the owner only.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';

export const KEY_FILE_MODE = 0o600;

/** Creates `dir` (and parents) with mode 0700 when it does not exist. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

function tempPath(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Writes `path` only if it does not exist yet (hard link of a complete temp
 * file, so racing writers cannot both win). Returns what is on disk
 * afterwards: ours, or the winner's.
 */
export async function writeOnce(path: string, data: string, mode = 0o644): Promise<string> {
  const temp = tempPath(path);
  await writeFile(temp, data, { mode });
  try {
    await link(temp, path);
    return data;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readFile(path, 'utf8');
  } finally {
    await unlink(temp);
  }
}

/** Replaces `path` atomically (write a temp file, rename over). */
export async function writeReplacing(path: string, data: string, mode = 0o644): Promise<void> {
  const temp = tempPath(path);
  await writeFile(temp, data, { mode });
  await rename(temp, path);
}

/** The file's text, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
