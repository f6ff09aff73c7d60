/**
 * The Dockerfile cannot be built here (no Docker engine), so its invariants are checked
 * statically: dockerfile-utils' linter (the one behind the VS Code Docker extension) plus the
 * project's own rules (test/helpers/dockerfile-rules.ts), each proven to fire on a bad file.
 * test/deploy/runtime-image.test.ts runs what the runtime stage would contain.
 */
import { readFileSync } from 'node:fs';
import { validate as lintWithDockerfileUtils } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '../../src/config/index.js';
import { copySource, dockerfileRules, lintDockerfile, parseStages } from '../helpers/dockerfile-rules.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const dockerfile = read('Dockerfile');
const defaultPort = gatewayConfigSchema.parse({
  resource: { url: 'https://mcp.example.com/mcp' },
  authorizationServers: [{ issuer: 'https://auth.example.com' }],
  upstream: { url: 'http://127.0.0.1:3000/mcp' },
}).listen.port;

describe('Dockerfile', () => {
  it('passes dockerfile-utils lint with no problems', () => {
    const problems = lintWithDockerfileUtils(dockerfile, {}).map((d) => `${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it('keeps every project rule (pinned base, numeric non-root USER, no dev dependencies, EXPOSE = default port, …)', () => {
    expect(defaultPort).toBe(8080);
    expect(lintDockerfile(dockerfile, { defaultPort })).toEqual([]);
  });

  it('has a build stage, a production-dependency stage and a runtime stage on the same pinned Node 22/24 image', () => {
    const { stages } = parseStages(dockerfile);
    expect(stages.map((stage) => stage.name)).toEqual(['build', 'prod-deps', 'runtime']);
    const images = new Set(stages.map((stage) => stage.image));
    expect(images.size).toBe(1);
    expect([...images][0]).toMatch(/^node:(22|24)\.\d+\.\d+-(bookworm|trixie)-slim$/);
  });

  it('points MCP_GATEWAY_CONFIG at the path the Kubernetes manifests and the Helm chart mount', () => {
    expect(dockerfile).toContain('MCP_GATEWAY_CONFIG=/etc/mcp-auth-gateway/config/gateway.yaml');
  });

  // Each rule must be able to fail: a Dockerfile that breaks all of them at once.
  const broken = [
    'FROM node:latest AS deps',
    'RUN npm ci',
    'FROM node:22-slim',
    'ENV UPSTREAM_API_KEY=abc',
    'ADD https://example.com/x.tgz /x.tgz',
    'COPY --from=deps /app/node_modules ./node_modules',
    'RUN npm install typescript',
    'USER node',
    'EXPOSE 3000',
    'ENTRYPOINT node bin/mcp-auth-gateway.js',
  ].join('\n');

  it.each(Object.keys(dockerfileRules))('rule %s fires on a Dockerfile that breaks it', (rule) => {
    const findings = lintDockerfile(broken, { defaultPort }).filter((finding) => finding.rule === rule);
    expect(findings.length, JSON.stringify(lintDockerfile(broken, { defaultPort }))).toBeGreaterThan(0);
  });

  it('USER root or 0 is refused as well as a name', () => {
    const withUser = (user: string) => dockerfile.replace('USER 1000:1000', `USER ${user}`);
    for (const user of ['0', 'root', '0:0']) {
      expect(lintDockerfile(withUser(user), { defaultPort }).map((f) => f.rule)).toContain('non-root-user');
    }
  });
});

describe('.dockerignore', () => {
  const ignore = read('.dockerignore').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));

  it('is an allow-list: everything is excluded first', () => {
    expect(ignore[0]).toBe('*');
  });

  it('re-includes exactly the build-context files the Dockerfile copies', () => {
    const { stages } = parseStages(dockerfile);
    const sources = stages
      .flatMap((stage) => stage.instructions)
      .filter((i) => i.getKeyword() === 'COPY' && copySource(i) === undefined)
      .flatMap((i) => i.getArguments().slice(0, -1).map((arg) => arg.getValue().replace(/\/$/, '')));
    const included = ignore.filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
    expect(new Set(sources)).toEqual(new Set(included));
  });

  it('keeps the demo servers out of the context', () => {
    expect(ignore).toContain('src/demo/');
  });
});
