# Nova KMS node image, packaged into a Nitro Enclave by enclaver (see enclaver.yaml).
# Stage 1 compiles TypeScript; stage 2 carries only compiled JS and production dependencies.
# (This machine has no Docker engine; the file is kept buildable by CI elsewhere.)

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY enclave ./enclave
COPY client ./client
COPY scripts ./scripts
RUN npx tsc -p tsconfig.build.json

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# --omit=optional: the only optional packages are dev tools' binaries (forge, anvil, tsgo).
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
# Inside the enclave the node talks to Odyn for keys and randomness; simulation is refused.
ENV IN_ENCLAVE=true \
    SIMULATION_MODE=false \
    BIND_HOST=0.0.0.0 \
    PORT=8000 \
    ODYN_URL=http://127.0.0.1:18000
USER node
EXPOSE 8000
CMD ["node", "dist/enclave/main.js"]
