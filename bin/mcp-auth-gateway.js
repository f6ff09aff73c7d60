#!/usr/bin/env node
// Runs the compiled CLI (dist/ is built by `npm run build`, and by `npm ci` through `prepare`).
await import('../dist/cli/run.js');
