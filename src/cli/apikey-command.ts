import { parseArgs } from 'node:util';
import { Document, isSeq } from 'yaml';
import { generateApiKey } from '../auth/index.js';
import { apiKeySchema } from '../config/index.js';
import type { CliIo } from './main.js';
import { UsageError } from './usage-error.js';

const USAGE = `Usage: mcp-auth-gateway apikey generate --name <name> [--scope <scope>]... [--subject <subject>]

Prints a new random API key once, and the apiKeys entry for gateway.yaml with its SHA-256
hash. The key is stored nowhere: hand it to its holder now (a secret manager), and put only
the entry in the config. Callers send it as "Authorization: Bearer <key>".

Options:
  --name <name>        Who holds the key: its client id in policy and audit (e.g. ci-bot)
  --scope <scope>      A scope the key grants; repeat for several
  --subject <subject>  Subject of its calls (default: api-key:<name>)
  -h, --help           Show this help
`;

/** `apikey generate`: a new key and its config entry (docs/tokens.md, "API keys"). */
export async function runApiKey(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scope: { type: 'string', multiple: true },
      subject: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const [subcommand, ...rest] = positionals;
  if (subcommand !== 'generate') throw new UsageError(subcommand ? `unknown apikey command: ${subcommand}` : 'apikey needs a command: generate');
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  if (!values.name) throw new UsageError('apikey generate needs --name <name>');

  const { key, hash } = generateApiKey();
  // Checked by the same schema as the config, so the printed entry is always valid there.
  const checked = apiKeySchema.safeParse({ name: values.name, hash, scopes: values.scope ?? [], ...(values.subject ? { subject: values.subject } : {}) });
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0] === 'scopes' ? 'scope' : issue.path[0])}: ${issue.message}`);
  }
  const document = new Document([checked.data]);
  const scopes = document.getIn([0, 'scopes'], true);
  if (isSeq(scopes)) scopes.flow = true;
  const entry = document.toString({ flowCollectionPadding: false }).trimEnd().replace(/^/gm, '  ');
  io.stdout.write(
    `API key for ${checked.data.name} (shown once, never stored; give it to its holder now):\n\n  ${key}\n\n` +
      `Add this entry under apiKeys: in the gateway config (it holds only the hash):\n\n${entry}\n`,
  );
  return 0;
}
