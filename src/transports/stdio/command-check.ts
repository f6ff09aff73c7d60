import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../../config/index.js';

/**
 * Fails at start-up, not on the first client, when the stdio upstream's
 * command cannot be run: a missing program, a path that is not executable, a
 * working directory that does not exist. The lookup is the one `spawn` does:
 * a command with a slash is a path (relative to cwd), anything else is looked
 * up in the PATH the child will have.
 *
 * @throws ConfigError naming upstream.command or upstream.cwd
 */
export async function checkCommand(command: string, cwd: string | undefined, childPath: string | undefined): Promise<void> {
  const directory = cwd ?? process.cwd();
  if (cwd !== undefined && !(await isDirectory(cwd))) {
    throw new ConfigError([{ path: 'upstream.cwd', message: `${cwd} is not a directory` }]);
  }
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(directory, command);
    if (!(await isExecutable(path))) throw new ConfigError([{ path: 'upstream.command', message: `${path} is not an executable file` }]);
    return;
  }
  for (const entry of (childPath ?? '').split(delimiter)) {
    if (entry !== '' && (await isExecutable(join(resolve(directory, entry), command)))) return;
  }
  throw new ConfigError([{ path: 'upstream.command', message: `${command} was not found in the child's PATH (upstream.inheritEnv / upstream.env)` }]);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function isExecutable(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return false;
  return access(path, constants.X_OK).then(() => true, () => false);
}
