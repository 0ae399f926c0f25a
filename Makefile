# Every target installs what it needs (npm ci) so it works on a fresh machine.
SHELL := /bin/bash
NPX := npx --no-install

.PHONY: install contracts test test-contracts test-ts typecheck lint run devchain bench simulation simulation-multi stop-simulation abi clean

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

contracts: install
	$(NPX) forge build

abi: contracts
	$(NPX) tsx scripts/generate-abi.ts

test-contracts: install
	$(NPX) forge test

typecheck: install
	$(NPX) tsc --noEmit -p tsconfig.json

# biome: lint rules and formatting (biome.jsonc); `npm run format` rewrites files to fit.
lint: install
	$(NPX) biome check .

test-ts: contracts
	$(NPX) vitest run

test: test-contracts typecheck lint test-ts

run: contracts
	$(NPX) tsx scripts/run.ts $(RUN_ARGS)

devchain: contracts
	$(NPX) tsx scripts/devchain.ts start

bench: install
	$(NPX) tsx bench/run-all.ts

simulation: contracts
	$(NPX) tsx scripts/simulate.ts

simulation-multi: contracts
	$(NPX) tsx scripts/run-multi-node.ts --nodes $(or $(NODES),3)

stop-simulation:
	$(NPX) tsx scripts/stop-simulation.ts

clean:
	rm -rf dist contracts/out contracts/cache .devchain
