// Bundles the CLI into dist/bundle/ with esbuild (run by `npm run build`).
//
// Why: Node spends most of the gateway's start-up resolving, reading and
// compiling a few hundred ES modules (its dependencies included). One bundle
// starts in about half the time (docs/decisions/0003-bundled-cli.md), which is
// what a pod waiting for readiness, or a scale-out under load, waits for.
// Parts loaded only when configured (the stdio and legacy-SSE bridges, the AS
// facade) stay separate chunks, so an HTTP-only gateway never reads them.
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

// --outdir: where the bundle goes (default dist/bundle; test/deploy/runtime-image.test.ts builds elsewhere).
const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist/bundle' } } });

// Chunk names carry a content hash: clear out the previous build's.
rmSync(values.outdir, { recursive: true, force: true });
await build({
  entryPoints: { 'mcp-auth-gateway': new URL('../src/cli/run.ts', import.meta.url).pathname },
  outdir: values.outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  // Dependencies written as CommonJS call require(): give the ES module bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
