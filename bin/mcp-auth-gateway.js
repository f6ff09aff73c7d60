#!/usr/bin/env node
// Runs the bundled CLI (dist/bundle/, built by `npm run build`, and by `npm ci` through `prepare`).
// The unbundled dist/cli/run.js behaves the same; the bundle starts faster (docs/decisions/0003-bundled-cli.md).
await import('../dist/bundle/mcp-auth-gateway.js');
