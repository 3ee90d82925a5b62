# Children of the Singularity — every task a developer or CI runs.
# `make` alone lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

REPO := $(CURDIR)
# One target dir for everything the Makefile builds: the .gdextension file
# loads the library from ../target relative to the Godot project.
export CARGO_TARGET_DIR := $(REPO)/target
export CARGO_TERM_COLOR ?= never

.PHONY: help
help: ## List every task
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

##@ Play

.PHONY: run
run: ## Play the release build (exported like the bundle), starting a local backend if none answers
	scripts/run-game.sh

.PHONY: editor
editor: ## Open the Godot project in the editor (debug build of the extension)
	scripts/godot-project.sh editor

.PHONY: dist
dist: ## The player's bundle: dist/children-of-the-singularity-<version>-linux-x86_64{/,.tar.gz}
	scripts/dist.sh

.PHONY: backend
backend: ## Run the backend in the foreground (SQLite under data/)
	cargo run -p backend -- serve

##@ Test and lint

.PHONY: test
test: lint test-rust test-api-fuzz test-ops test-godot test-dist ## Everything CI checks: lint, cargo tests (SQLite + PostgreSQL + Redis), the API fuzz, TLS proxy and hook tests, in-engine Godot tests, the bundle as a player starts it

.PHONY: test-rust
test-rust: ## cargo tests of every crate, backend on SQLite, a private PostgreSQL and a private Redis
	@PG_URL="$$(scripts/ensure-postgres.sh)"; \
	  echo "PostgreSQL for tests: $${PG_URL%%@*}@…"; \
	  REDIS_URL="$$(scripts/ensure-redis.sh)"; \
	  echo "Redis for tests: redis://…@$${REDIS_URL##*@}"; \
	  TEST_POSTGRES_URL="$$PG_URL" REQUIRE_POSTGRES=1 \
	  TEST_REDIS_URL="$$REDIS_URL" REQUIRE_REDIS=1 \
	  cargo test --workspace --all-targets --locked

.PHONY: test-api-fuzz
test-api-fuzz: ## Schemathesis over /openapi.json as a real player: no 5xx, no undocumented status, bodies match their schemas (private venv, < 3 min)
	scripts/api-fuzz.sh

.PHONY: test-ops
test-ops: ## The shipped nginx TLS config in front of a test backend (https + wss), and the git pre-commit hook
	scripts/test-tls-proxy.sh
	scripts/test-hooks.sh

.PHONY: test-godot
test-godot: ## In-engine tests inside a headless Godot 4.6
	scripts/godot-project.sh test

.PHONY: test-dist
test-dist: dist ## Unpack the bundle into an empty dir and play it headless against a real backend; the release library registers no test class
	scripts/test-dist.sh
	COTS_SKIP_BUILD=1 scripts/check-release-lib.sh

.PHONY: editor-help-shots
editor-help-shots: godot-gl ## The editor's help pages of Zone, PlayerShip and HubPanel -> docs/screenshots/editor-help-*.png
	scripts/editor-help-shots.sh

.PHONY: smoke
smoke: ## Run the boot scene headless for a few frames (extension must load, no errors)
	scripts/godot-project.sh smoke

.PHONY: lint
lint: ## cargo fmt --check, clippy with warnings as errors (test features included), no import cycles
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
	python3 scripts/check-module-cycles.py backend/src rust-game/src client/src game/src

.PHONY: fmt format
fmt: ## Format all Rust code
	cargo fmt --all

format: fmt ## Same as fmt

.PHONY: install-hooks
install-hooks: ## Install the git pre-commit hook (secrets, cargo fmt --check, clippy on staged crates)
	@hooks="$$(git rev-parse --git-path hooks)"; mkdir -p "$$hooks"; \
	  if [ -e "$$hooks/pre-commit" ] && [ ! -L "$$hooks/pre-commit" ]; then \
	    mv "$$hooks/pre-commit" "$$hooks/pre-commit.old"; echo "kept the previous hook as $$hooks/pre-commit.old"; \
	  fi; \
	  ln -sf "$(REPO)/scripts/hooks/pre-commit" "$$hooks/pre-commit"; \
	  echo "installed: $$hooks/pre-commit -> scripts/hooks/pre-commit (skip once with git commit --no-verify)"

.PHONY: bench
bench: ## Every benchmark (zone tick, Rust vs GDScript field, backend load on SQLite+PostgreSQL, client) -> docs/BENCHMARKS.md
	scripts/bench.sh

##@ Tools

.PHONY: godot
godot: ## Find or fetch Godot 4.6+ and print its version
	@G="$$(scripts/godot-bootstrap.sh)"; echo "godot: $$G"; "$$G" --headless --version

.PHONY: godot-gl
godot-gl: ## Also fetch Mesa GL libraries and Xvfb for off-screen rendering
	@G="$$(scripts/godot-bootstrap.sh --gl --xvfb)"; echo "godot: $$G"; command -v xvfb-run

.PHONY: postgres
postgres: ## Start the private PostgreSQL used by the tests and print its URL
	scripts/ensure-postgres.sh

.PHONY: redis
redis: ## Start the private Redis used by the tests and print its URL
	scripts/ensure-redis.sh

.PHONY: screenshot-dist
screenshot-dist: dist ## The bundle's own login screen under Xvfb -> docs/screenshots/bundle-login.png
	scripts/screenshot-bundle.sh

.PHONY: screenshots
screenshots: godot-gl ## Render the game's screens to docs/screenshots/*.png under Xvfb
	scripts/screenshots.sh

include scripts/docker.mk

.PHONY: clean
clean: ## Remove build output and Godot's import cache (keeps the Godot download)
	cargo clean
	rm -rf godot-project/.godot godot-project/bin dist
