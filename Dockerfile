# swarmhost: build the TypeScript, then run the compiled server on Node 20.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY lobbies lobbies
COPY protocol protocol
COPY client client
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
USER node
EXPOSE 8080
# SIGTERM drains lobbies (clients are told to reconnect) before exiting.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
