# swarmhost: build the TypeScript and the browser client, then run the
# compiled server on Node 24 LTS as a non-root user. docs/DEPLOY.md ("The
# image and Node") explains each choice. test/system/image-build.test.ts
# rebuilds these stages without Docker (it copies exactly what the COPY
# lines copy, runs the RUN lines, starts CMD and checks HEALTHCHECK), so a
# file the build or the server needs and no COPY brings in fails CI.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# The lock file first: the dependency layer stays cached while sources change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# What `npm run build` reads: tsconfig.build.json (extends tsconfig.json)
# compiles src, lobbies and protocol; client/build.ts bundles client/ with
# protocol/. bench/, test/, scripts/ and dashboards/ are not needed.
COPY tsconfig.json tsconfig.build.json ./
COPY protocol protocol
COPY lobbies lobbies
COPY src src
COPY client client
# Build with the dev dependencies, then drop them: only the runtime's go on.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
# What the server reads at run time: package.json (its version, and the
# package root that locates dist/client), the production node_modules, and
# dist/ (the compiled server and worker, and the built pages and assets).
# Owned by root and not writable by the server: it writes no files.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# The base image's unprivileged user (uid 1000).
USER node
EXPOSE 8080
# Liveness, not readiness: /healthz answers 200 as long as the process
# serves, also while it drains. /readyz turns 503 at the start of a drain
# (that is for the load balancer), and a Docker (or Swarm) health check on it
# would mark a draining container unhealthy, and Swarm would kill it before
# its players were handed over. No curl in the slim image: Node's fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1, with no shell or npm in between (exec form), so SIGTERM
# reaches it: src/main.ts handles SIGTERM and SIGINT itself (a drain, then
# exit 0). PID 1 gets no default signal actions from the kernel, which is
# harmless here because both signals have handlers; and it must reap
# orphaned children, of which the server has none (lobbies are worker
# threads, not processes). So no tini: `docker run --init` adds one if a
# future version spawns processes.
STOPSIGNAL SIGTERM
# The V8 flags are src/node-flags.ts SERVER_NODE_FLAGS (why: there).
CMD ["node", "--max-semi-space-size=2", "dist/src/main.js"]
