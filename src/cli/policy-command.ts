import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  callerFromClaims,
  explainDecision,
  formatExplanation,
  formatFinding,
  loadPolicyDirectory,
  parseClaimsInput,
  parsePolicyTests,
  parseRequestInput,
  PolicyError,
  PolicyTestFileError,
  runPolicyTests,
} from '../policy/index.js';
import { buildClaimMapping, type ClaimMapping } from '../auth/index.js';
import { ConfigError, loadConfigFile } from '../config/index.js';
import { buildMetadataUrl } from '../discovery/index.js';
import type { CliIo } from './main.js';
import { UsageError } from './usage-error.js';

export const POLICY_USAGE = `Usage: mcp-auth-gateway policy <validate|explain|test> …

  policy validate <dir> [--strict]
      Schema and semantic checks of a policy directory. Exit 1 on errors
      (and on warnings with --strict).

  policy explain --policy <dir> --claims <json|jwt|@file> --request <json|@file> [--resource <url>] [--config <gateway.yaml>] [--json]
      The decision for one request: the rule that matched, required vs granted
      scopes, and the exact response (challenge) the client would get. With
      --config, the claims are read through the claim mapping of the
      authorizationServers entry their iss names (Okta cid, Entra roles, …),
      and --resource defaults to the config's resource.url.

  policy test <dir> <tests.yaml> [--config <gateway.yaml>]
      Runs YAML test cases (claims + request → expected decision and challenge).
      Exit 1 when a case fails. With --config, each case's claims are read
      through the claim mapping of the issuer its iss names, as in explain;
      a case whose iss the config does not list fails.
`;

/** `policy …`: tooling for platform teams who own policy files. */
export async function runPolicy(argv: readonly string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = argv;
  switch (subcommand) {
    case 'validate':
      return validate(rest, io);
    case 'explain':
      return explain(rest, io);
    case 'test':
      return test(rest, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout.write(POLICY_USAGE);
      return subcommand === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown policy command: ${subcommand}`);
  }
}

async function validate(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { strict: { type: 'boolean' } } });
  const directory = single(positionals, 'policy validate needs a directory');
  try {
    const { policy, findings } = await loadPolicyDirectory(directory);
    for (const finding of findings) io.stdout.write(`${formatFinding(finding)}\n`);
    io.stdout.write(`${directory}: valid (${policy.files.length} files, version ${policy.version}, ${findings.length} warnings)\n`);
    return values.strict && findings.length > 0 ? 1 : 0;
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    io.stderr.write(`${error.message}\n${directory}: invalid\n`);
    return 1;
  }
}

async function explain(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      policy: { type: 'string' },
      claims: { type: 'string' },
      request: { type: 'string' },
      resource: { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (!values.policy || !values.claims || !values.request) throw new UsageError('policy explain needs --policy, --claims and --request');
  const policy = await loadOrReport(values.policy, io);
  if (!policy) return 1;
  const claims = parseClaimsInput(await readArgument(values.claims));
  const request = parseRequestInput(JSON.parse(await readArgument(values.request)) as unknown);
  let mapping: ClaimMapping | undefined;
  let resource = values.resource;
  if (values.config) {
    const issuer = await issuerFromConfig(values.config, claims.iss, io);
    if (!issuer) return 1;
    mapping = buildClaimMapping(issuer.claimMapping);
    resource ??= issuer.resourceUrl;
  }
  const resourceMetadataUrl = resource ? buildMetadataUrl(resource) : 'https://<gateway>/.well-known/oauth-protected-resource/<path>';
  const explanation = explainDecision(policy, callerFromClaims(claims, mapping), request, { resourceMetadataUrl });
  io.stdout.write(values.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
  return 0;
}

/** The gateway config's entry for the claims' issuer (its claim mapping), or undefined after saying why. */
async function issuerFromConfig(configPath: string, iss: string | undefined, io: CliIo) {
  const config = await configOrReport(configPath, io);
  if (!config) return undefined;
  const server = config.authorizationServers.find((candidate) => candidate.issuer === iss);
  if (!server) {
    const known = config.authorizationServers.map((candidate) => candidate.issuer).join(', ') || 'none';
    io.stderr.write(`the claims' iss (${iss ?? 'missing'}) is not an authorizationServers issuer in ${configPath} (${known}); the gateway would refuse this token\n`);
    return undefined;
  }
  return { claimMapping: server.claimMapping, resourceUrl: config.resource.url };
}

async function test(argv: readonly string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseArgs({ args: [...argv], allowPositionals: true, options: { config: { type: 'string' } } });
  const [directory, testsFile] = positionals;
  if (!directory || !testsFile || positionals.length > 2) throw new UsageError('policy test needs <dir> <tests.yaml>');
  const policy = await loadOrReport(directory, io);
  if (!policy) return 1;
  let issuers: Map<string, ClaimMapping> | undefined;
  if (values.config) {
    const config = await configOrReport(values.config, io);
    if (!config) return 1;
    issuers = new Map(config.authorizationServers.map((server) => [server.issuer, buildClaimMapping(server.claimMapping)]));
  }
  let cases;
  try {
    cases = parsePolicyTests(await readFile(testsFile, 'utf8'), testsFile).tests;
  } catch (error) {
    if (!(error instanceof PolicyTestFileError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return 1;
  }
  const results = runPolicyTests(policy, cases, { issuers });
  for (const result of results) {
    io.stdout.write(`${result.passed ? '✓' : '✗'} ${result.name}\n`);
    for (const failure of result.failures) io.stdout.write(`    ${failure}\n`);
  }
  const failed = results.filter((result) => !result.passed).length;
  io.stdout.write(`\n${results.length} tests, ${results.length - failed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

/** The gateway config, or undefined after saying why it is invalid. */
async function configOrReport(configPath: string, io: CliIo) {
  try {
    return await loadConfigFile(configPath, { env: io.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`${configPath}: invalid\n${error.message}\n`);
    return undefined;
  }
}

async function loadOrReport(directory: string, io: CliIo) {
  try {
    return (await loadPolicyDirectory(directory)).policy;
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return undefined;
  }
}

/** `@path` reads a file; anything else is the value itself. */
async function readArgument(value: string): Promise<string> {
  return value.startsWith('@') ? readFile(value.slice(1), 'utf8') : value;
}

function single(positionals: readonly string[], message: string): string {
  if (positionals.length !== 1) throw new UsageError(message);
  return positionals[0]!;
}
