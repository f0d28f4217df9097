# syntax=docker/dockerfile:1
# The web client's image: from the checkout's root,
#   docker build -f deploy/docker/web.Dockerfile --build-arg VERSION=1.2.3 -t chatterly-web:1.2.3 .
# A production build served by web/scripts/start.mjs (`npm run start` without
# npm) on node slim as the image's unprivileged user `node` (uid 1000).
# WEB_API_URL and WEB_CABLE_URL are read per request, so one image serves any
# environment; listens on WEB_ADDR (0.0.0.0:3000 here). Nothing is fetched at
# build time but npm packages (no fonts, telemetry off).

ARG NODE_VERSION=20.20.2

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /web
ENV NEXT_TELEMETRY_DISABLED=1
COPY web/package.json web/package-lock.json ./
RUN npm ci
COPY web/ ./
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --omit=dev

FROM node:${NODE_VERSION}-bookworm-slim
ARG VERSION=dev
LABEL org.opencontainers.image.version="${VERSION}"
WORKDIR /web
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 WEB_ADDR=0.0.0.0:3000
COPY --from=deps /web/node_modules ./node_modules
COPY --from=build /web/.next ./.next
COPY web/package.json web/next.config.mjs ./
COPY web/scripts ./scripts
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "scripts/start.mjs"]
