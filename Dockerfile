# syntax=docker/dockerfile:1
#
# mcp-auth-gateway container image.
#
#   docker build -t mcp-auth-gateway:0.1.0 .
#   docker run --rm -p 8080:8080 --read-only \
#     -v "$PWD/gateway.yaml:/etc/mcp-auth-gateway/config/gateway.yaml:ro" \
#     -e UPSTREAM_API_KEY mcp-auth-gateway:0.1.0
#
# docs/deployment.md explains the layout. test/deploy/dockerfile.test.ts checks the
# invariants below (pinned base, non-root numeric USER, no dev dependencies in the
# runtime stage, EXPOSE = the config's default port) and lints this file.

# An exact Node.js release, never a floating tag. To pin the digest as well:
#   docker build --build-arg NODE_IMAGE=node:24.21.0-trixie-slim@sha256:<digest> .
ARG NODE_IMAGE=node:24.21.0-trixie-slim

# 1. Compile the TypeScript sources (the demo servers are not part of the build).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
# tsc into dist/, then esbuild bundles the CLI into dist/bundle/ (what bin/ runs; it starts faster).
RUN npm run build

# 2. Production dependencies only: no TypeScript, esbuild, test tools or oidc-provider.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. Runtime: node, the compiled gateway and its production dependencies.
FROM ${NODE_IMAGE} AS runtime
# The package managers are not needed to run (and npm would try to write logs under
# a read-only root). Removing them shrinks the attack surface, not the base layer.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
    /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
LABEL org.opencontainers.image.title="mcp-auth-gateway" \
      org.opencontainers.image.description="OAuth 2.1 gateway in front of MCP servers" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production \
    MCP_GATEWAY_CONFIG=/etc/mcp-auth-gateway/config/gateway.yaml
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# Numeric, so Kubernetes can verify runAsNonRoot; 1000 is the image's `node` user.
# Nothing is written at run time: the root filesystem can be read-only.
USER 1000:1000
# The default `listen.port`; the config must also set `listen.host: 0.0.0.0`.
EXPOSE 8080
# For `docker run` (Kubernetes uses the probes instead); assumes listen.port 8080 and no
# metrics.port (an admin port takes /healthz away from 8080: override with --health-cmd).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and handles SIGTERM itself (readiness off, lame duck, drain).
ENTRYPOINT ["node", "/app/bin/mcp-auth-gateway.js"]
CMD ["serve"]
