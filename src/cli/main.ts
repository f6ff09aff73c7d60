import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { runApiKey } from './apikey-command.js';
import { runPolicy } from './policy-command.js';
import { runServe } from './serve-command.js';
import { UsageError } from './usage-error.js';
import { runValidate } from './validate-command.js';

export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

const USAGE = `Usage: mcp-auth-gateway <command> [options]

An OAuth 2.1 gateway in front of MCP servers.

Commands:
  serve     Run the gateway
  validate  Check a gateway config file (exit 0 when valid, 1 when not)
  policy    Validate, explain and test policy files (mcp-auth-gateway policy --help)
  apikey    Generate a static API key and its config entry (mcp-auth-gateway apikey --help)

Options:
  -c, --config <file>  Gateway config file (default: $MCP_GATEWAY_CONFIG)
  -h, --help           Show this help
  -v, --version        Show the version

Examples:
  mcp-auth-gateway validate --config gateway.yaml
  mcp-auth-gateway apikey generate --name ci-bot --scope tickets:read
  MCP_GATEWAY_CONFIG=/etc/mcp-auth-gateway/gateway.yaml mcp-auth-gateway serve
`;

/** Runs the CLI and returns the process exit code. `serve` returns only after shutdown. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    // `policy` has subcommands with their own options.
    if (argv[0] === 'policy') return await runPolicy(argv.slice(1), io);
    if (argv[0] === 'apikey') return await runApiKey(argv.slice(1), io);
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
    if (values.version) {
      io.stdout.write(`${readVersion()}\n`);
      return 0;
    }
    const [command, ...rest] = positionals;
    if (values.help || command === undefined || command === 'help') {
      io.stdout.write(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
    const configPath = values.config ?? io.env.MCP_GATEWAY_CONFIG;
    switch (command) {
      case 'serve':
        return await runServe(requireConfigPath(configPath), io);
      case 'validate':
        return await runValidate(requireConfigPath(configPath), io);
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`mcp-auth-gateway: ${(error as Error).message}\nRun 'mcp-auth-gateway --help' for usage.\n`);
      return 2;
    }
    // Never a stack trace on the console: the message is what the operator needs.
    io.stderr.write(`mcp-auth-gateway: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}

function requireConfigPath(path: string | undefined): string {
  if (!path) throw new UsageError('no config file: pass --config <file> or set MCP_GATEWAY_CONFIG');
  return path;
}

function readVersion(): string {
  // src/cli/ and dist/cli/ both sit two levels below package.json.
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  return pkg.version;
}
