/**
 * Rendering and validating the deployment manifests without a cluster.
 *
 * - Rendering uses the real tools: `kubectl kustomize` and `helm template`, installed into
 *   .tools/bin by scripts/install-tools.ts (`npm test` runs it first).
 * - Schema validation uses two views of the Kubernetes OpenAPI schema, both from npm:
 *   kubernetes-models (its JSON Schema compiled with ajv: required fields, types, formats such
 *   as resource quantities) and kubernetes-types with the TypeScript compiler, whose excess
 *   property check rejects unknown fields the way `kubeconform -strict` and the API server's
 *   strict field validation do (a misspelt `readOnlyRootFileSystem` is silently dropped by a
 *   lenient validator).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const TOOLS = `${ROOT}.tools/bin`;

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

function tool(name: 'helm' | 'kubectl'): string {
  const path = `${TOOLS}/${name}`;
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run tools\` (npm test does it first)`);
  return path;
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`YAML: ${document.errors[0]!.message}`);
      return document.toJS() as Manifest | null;
    })
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** `kubectl kustomize <dir>`; `dir` is relative to the repository root. */
export async function renderKustomize(dir: string): Promise<Manifest[]> {
  const { stdout } = await run(tool('kubectl'), ['kustomize', `${ROOT}${dir}`], { maxBuffer: 16 * 1024 * 1024 });
  return parseManifests(stdout);
}

/** `helm template <release> <chart>` with values files (relative to the root) and --set pairs. */
export async function renderHelm(
  chart: string,
  { release = 'tickets', namespace = 'default', valuesFiles = [], set = [] }: { release?: string; namespace?: string; valuesFiles?: string[]; set?: string[] } = {},
): Promise<Manifest[]> {
  const args = ['template', release, `${ROOT}${chart}`, '--namespace', namespace, ...valuesFiles.flatMap((file) => ['--values', `${ROOT}${file}`]), ...set.flatMap((pair) => ['--set', pair])];
  const { stdout } = await run(tool('helm'), args, { maxBuffer: 16 * 1024 * 1024 });
  return parseManifests(stdout);
}

/** `helm <args>` (lint, show, …): resolves with stdout, rejects with the output on a non-zero exit. */
export async function runHelm(args: string[]): Promise<string> {
  try {
    return (await run(tool('helm'), args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`helm ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Schema validation

/** apiVersion → kubernetes-types module (for the strict check). */
function typesModule(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  return `kubernetes-types/${group!.replace(/\.k8s\.io$/, '')}/${version}`;
}

/** apiVersion → kubernetes-models module (for the JSON Schema check). */
function modelsModule(apiVersion: string): string {
  return `kubernetes-models/${apiVersion}`;
}

const label = (manifest: Manifest) => `${manifest.kind}/${manifest.metadata?.name ?? '?'}`;

/** kubernetes-models: the JSON Schema of each kind (required fields, types, formats). */
async function validateWithModels(manifests: Manifest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const manifest of manifests) {
    let model: Record<string, new (value: unknown) => { validate(): void }>;
    try {
      model = (await import(modelsModule(manifest.apiVersion))) as typeof model;
    } catch {
      problems.push(`${label(manifest)}: no schema for apiVersion ${manifest.apiVersion}`);
      continue;
    }
    const Model = model[manifest.kind];
    if (!Model) {
      problems.push(`${label(manifest)}: no schema for ${manifest.apiVersion} ${manifest.kind}`);
      continue;
    }
    try {
      new Model(manifest).validate();
    } catch (error) {
      problems.push(`${label(manifest)}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** kubernetes-types + tsc: every manifest as a typed object literal; unknown fields are errors. */
function validateStrictFields(manifests: Manifest[]): string[] {
  const fileName = `${ROOT}test/.k8s-manifests.generated.ts`;
  const lines: string[] = [];
  const owners: Array<{ from: number; to: number; manifest: Manifest }> = [];
  manifests.forEach((manifest, index) => {
    const from = lines.length;
    lines.push(`export const m${index}: import(${JSON.stringify(typesModule(manifest.apiVersion))}).${manifest.kind} =`);
    lines.push(...JSON.stringify(manifest, null, 1).split('\n'), ';');
    owners.push({ from, to: lines.length, manifest });
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    // kubernetes-types has no exports map; its subpaths resolve as a bundler would.
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (name) => name === fileName || ts.sys.fileExists(name);
  host.readFile = (name) => (name === fileName ? source : readFile(name));
  host.getSourceFile = (name, languageVersion, ...rest) =>
    name === fileName ? ts.createSourceFile(name, source, languageVersion) : getSourceFile(name, languageVersion, ...rest);
  const program = ts.createProgram([fileName], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (!diagnostic.file || diagnostic.start === undefined) return message;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const owner = owners.find(({ from, to }) => line >= from && line < to);
    const field = lines[line]?.trim().replace(/,$/, '') ?? '';
    return `${owner ? label(owner.manifest) : diagnostic.file.fileName}: ${field}: ${message}`;
  });
}

/** Every problem the two schema views find; empty when the manifests are valid. */
export async function validateManifests(manifests: Manifest[]): Promise<string[]> {
  if (manifests.length === 0) return ['no manifests rendered'];
  return [...(await validateWithModels(manifests)), ...validateStrictFields(manifests)];
}

// ---------------------------------------------------------------------------------------------
// Lookups

export function find<T = Record<string, any>>(manifests: Manifest[], kind: string, name?: string): T & Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? `/${name}` : ''}, found ${found.length}`);
  return found[0] as T & Manifest;
}

export function findAll(manifests: Manifest[], kind: string): Array<Record<string, any> & Manifest> {
  return manifests.filter((m) => m.kind === kind) as Array<Record<string, any> & Manifest>;
}

// ---------------------------------------------------------------------------------------------
// Volumes

/**
 * A ConfigMap volume as the kubelet writes it: the files in a timestamped hidden directory,
 * `..data` pointing at it, and one top-level symlink per key through `..data`. Returns the
 * directory that would be the mount path.
 */
export function writeConfigMapVolume(configMap: Manifest | { data: Record<string, string> }): string {
  const data = (configMap as { data?: Record<string, string> }).data ?? {};
  const volume = mkdtempSync(join(tmpdir(), 'mcp-gw-configmap-'));
  const timestamped = '..2026_11_25_10_00_00.000000001';
  mkdirSync(join(volume, timestamped));
  for (const [key, value] of Object.entries(data)) writeFileSync(join(volume, timestamped, key), value);
  symlinkSync(timestamped, join(volume, '..data'));
  for (const key of Object.keys(data)) symlinkSync(join('..data', key), join(volume, key));
  return volume;
}
