# pgdeck's container image: the compiled JS on Node 20, production dependencies only, non-root.
# The same program as the flake's `packages.image` (the `pgdeck` bin, dist/main.js).
#   docker build -t ghcr.io/pgdeck/pgdeck:0.1.0 .

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-fund --no-audit
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-fund --no-audit && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
USER 65532:65532
EXPOSE 8008
ENTRYPOINT ["node", "/app/dist/main.js"]
