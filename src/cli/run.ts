#!/usr/bin/env node
/** Executable entry: `bin/mcp-auth-gateway.js` loads the compiled form of this file. */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
