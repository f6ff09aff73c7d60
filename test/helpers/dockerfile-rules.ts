/**
 * The Dockerfile invariants this project keeps, as lint rules over dockerfile-ast's parse
 * (hadolint is not installable here: neither Debian nor npm carries it). Each rule is a pure
 * function, so the tests can prove that each one fires on a Dockerfile that breaks it.
 */
import { Copy, DockerfileParser, type Dockerfile, type Instruction } from 'dockerfile-ast';

export interface RuleContext {
  /** The default `listen.port` of the config schema. */
  defaultPort: number;
}

export interface Finding {
  rule: string;
  message: string;
}

interface Stage {
  name: string | undefined;
  image: string;
  instructions: Instruction[];
}

export function parseStages(text: string): { dockerfile: Dockerfile; stages: Stage[] } {
  const dockerfile = DockerfileParser.parse(text);
  const globalArgs = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const [name, value = ''] = arg.getArgumentsContent()?.split('=', 2) ?? [];
    if (name) globalArgs.set(name.trim(), value.trim());
  }
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [image = '', as, name] = instruction.getArguments().map((arg) => arg.getValue());
      const resolved = image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, arg: string) => globalArgs.get(arg) ?? '');
      stages.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, image: resolved, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { dockerfile, stages };
}

const keyword = (instruction: Instruction) => instruction.getKeyword();
const content = (instruction: Instruction) => instruction.getArgumentsContent() ?? '';

/** The stage named by `COPY --from=<stage>`, if any. */
export function copySource(instruction: Instruction): string | undefined {
  return instruction instanceof Copy ? (instruction.getFromFlag()?.getValue() ?? undefined) : undefined;
}

type Rule = (stages: Stage[], context: RuleContext) => string[];

export const dockerfileRules: Record<string, Rule> = {
  /** hadolint DL3006/DL3007: an exact version tag (x.y.z) or a digest, never latest. */
  'pinned-base': (stages) =>
    stages
      .filter((stage) => !stages.some((other) => other.name === stage.image))
      .filter((stage) => !/@sha256:[0-9a-f]{64}$/.test(stage.image) && !/:[^:/]*\d+\.\d+\.\d+[^:/]*$/.test(stage.image))
      .map((stage) => `FROM ${stage.image || '(empty)'} is not pinned to an exact version or digest`),

  /** hadolint DL3002: the runtime runs as a numeric non-root user (Kubernetes can verify runAsNonRoot). */
  'non-root-user': (stages) => {
    const users = stages.at(-1)?.instructions.filter((i) => keyword(i) === 'USER') ?? [];
    const last = users.at(-1);
    if (!last) return ['the runtime stage sets no USER'];
    const [user = ''] = content(last).split(':');
    return /^\d+$/.test(user) && user !== '0' ? [] : [`USER ${content(last)} must be a numeric, non-zero uid`];
  },

  /** The runtime stage installs nothing; its node_modules come from a stage that ran `npm ci --omit=dev`. */
  'no-dev-dependencies': (stages) => {
    const runtime = stages.at(-1);
    if (!runtime) return ['no stages'];
    const problems = runtime.instructions
      .filter((i) => keyword(i) === 'RUN' && /\b(npm|pnpm)\s+(ci|install|i|add)\b|\byarn\s+(install|add)\b/.test(content(i)))
      .map((i) => `the runtime stage installs packages: RUN ${content(i)}`);
    const modules = runtime.instructions.find((i) => keyword(i) === 'COPY' && /node_modules/.test(content(i)));
    const from = modules && copySource(modules);
    const source = stages.find((stage) => stage.name === from);
    const installsProdOnly = source?.instructions.some((i) => keyword(i) === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(content(i)));
    if (!modules || !installsProdOnly) problems.push('node_modules must be copied from a stage that runs `npm ci --omit=dev`');
    return problems;
  },

  /** EXPOSE names the config schema's default port. */
  'exposed-port': (stages, { defaultPort }) => {
    const exposed = stages.at(-1)?.instructions.filter((i) => keyword(i) === 'EXPOSE').flatMap((i) => content(i).split(/\s+/)) ?? [];
    return exposed.length === 1 && exposed[0]?.replace(/\/tcp$/, '') === String(defaultPort)
      ? []
      : [`EXPOSE ${exposed.join(' ') || '(none)'} must be exactly the default listen.port ${defaultPort}`];
  },

  /** Exec-form ENTRYPOINT running node directly: PID 1 receives SIGTERM (a shell would swallow it). */
  'exec-form-entrypoint': (stages) => {
    const entrypoints = stages.at(-1)?.instructions.filter((i) => keyword(i) === 'ENTRYPOINT') ?? [];
    const last = entrypoints.at(-1);
    if (!last) return ['the runtime stage has no ENTRYPOINT'];
    const text = content(last).trim();
    return text.startsWith('[') && /^\["node"/.test(text) ? [] : [`ENTRYPOINT ${text} must be exec form starting with "node"`];
  },

  /** hadolint DL3020: COPY, not ADD (no remote URLs or implicit extraction). */
  'no-add': (stages) =>
    stages.flatMap((stage) => stage.instructions.filter((i) => keyword(i) === 'ADD').map((i) => `ADD ${content(i)}: use COPY`)),

  /** Secrets never live in the image: no ENV/ARG whose name looks like one. */
  'no-secrets-in-env': (stages) =>
    stages.flatMap((stage) =>
      stage.instructions
        .filter((i) => (keyword(i) === 'ENV' || keyword(i) === 'ARG') && /(SECRET|TOKEN|PASSWORD|API_KEY|CREDENTIAL)\w*\s*=/i.test(content(i)))
        .map((i) => `${keyword(i)} ${content(i)} looks like a secret`),
    ),
};

export function lintDockerfile(text: string, context: RuleContext): Finding[] {
  const { stages } = parseStages(text);
  return Object.entries(dockerfileRules).flatMap(([rule, check]) => check(stages, context).map((message) => ({ rule, message })));
}
