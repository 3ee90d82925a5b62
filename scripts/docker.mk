# Docker image, compose stack and database tasks. Included by the top-level
# Makefile (`include scripts/docker.mk`), which provides SHELL (bash, -eu
# -o pipefail) and the `help` target that lists the `## ` comments below.
#
# The db-* and env-check targets run the backend's own subcommands
# (`migrate`, `check-config`). Where they run:
#   - in the compose stack (`docker compose run --rm backend ...`) when a
#     Docker engine answers;
#   - otherwise, or with LOCAL=1, on this machine through cargo, against the
#     database that .env / the environment names (SQLite by default).
# LOCAL=0 forces the compose stack.
#
# Variables: COMPOSE (docker compose), BACKEND_IMAGE (cots-backend:latest),
# LOCAL, CONFIRM=yes (db-reset / docker-clean without the question), TAIL
# (docker-logs).

COMPOSE ?= docker compose
BACKEND_IMAGE ?= cots-backend:latest
TAIL ?= 200
export BACKEND_IMAGE

# Evaluated only inside the recipes that use them (recursive variables), so
# other targets never probe Docker.
ops_local = $(if $(filter 1 yes true,$(LOCAL)),1,$(if $(filter 0 no false,$(LOCAL)),,$(shell docker info >/dev/null 2>&1 || echo 1)))
backend_run = $(if $(ops_local),cargo run -q -p backend --locked --,$(COMPOSE) run --rm backend)

define require_env_file
	@if [ ! -f .env ]; then \
	  echo "error: .env is missing: cp .env.example .env (then edit it; see docs/DEPLOYMENT.md)" >&2; \
	  exit 1; \
	fi
endef

##@ Docker and database

.PHONY: docker-build docker-up docker-down docker-restart docker-clean docker-logs db-init db-migrate db-reset db-shell env-check

docker-build: ## Build the backend image (backend/Dockerfile, context: the repository)
	docker build -f backend/Dockerfile -t $(BACKEND_IMAGE) .

docker-up: ## Start PostgreSQL and the backend with docker compose, wait until healthy
	$(require_env_file)
	$(COMPOSE) up -d --build --wait
	@echo "backend: http://$${BACKEND_PUBLISH_ADDR:-127.0.0.1}:$${BACKEND_PORT:-8080} (make docker-logs to follow the logs)"

docker-down: ## Stop and remove the compose containers (the database volume is kept)
	$(COMPOSE) down

docker-restart: ## Recreate the backend container (re-reads .env; rebuilds the image if needed), wait until healthy
	$(require_env_file)
	$(COMPOSE) up -d --build --wait --force-recreate --no-deps backend
	@echo "backend restarted: http://$${BACKEND_PUBLISH_ADDR:-127.0.0.1}:$${BACKEND_PORT:-8080}"

docker-clean: ## Remove the compose containers, AND (after asking) the volumes: DELETES THE DATABASE
	@echo "docker-clean removes the compose containers and the volumes pgdata and backend-data: every account and all game data in the compose stack is deleted." >&2
	@if [ "$${CONFIRM:-}" != yes ]; then \
	  if [ ! -t 0 ]; then echo "error: no terminal to confirm on: run with CONFIRM=yes (or use make docker-down, which keeps the volumes)" >&2; exit 1; fi; \
	  read -r -p "Type 'delete' to remove the volumes too: " answer; \
	  if [ "$$answer" != delete ]; then echo "aborted: nothing removed (make docker-down keeps the volumes)" >&2; exit 1; fi; \
	fi
	$(COMPOSE) --profile tls --profile redis down --volumes --remove-orphans

docker-logs: ## Follow the logs of the compose stack (JSON lines from the backend)
	$(COMPOSE) logs -f --tail=$(TAIL)

db-init: ## Create the database (compose: start PostgreSQL and wait; local SQLite: create the file) and apply every migration
	$(if $(ops_local),,$(COMPOSE) up -d --wait db)
	$(backend_run) migrate
	@echo "database ready$(if $(ops_local), (the one .env / DATABASE_URL names), in the compose stack)"

db-migrate: ## Apply pending database migrations (compose stack, or LOCAL=1 with cargo)
	$(backend_run) migrate

db-reset: ## Revert every migration and re-apply them: DELETES ALL DATA (asks first)
	@echo "db-reset reverts every migration and applies them again: every account and all game data in the $(if $(ops_local),database named by .env / DATABASE_URL,compose stack's PostgreSQL) is deleted." >&2
	@if [ "$${CONFIRM:-}" != yes ]; then \
	  if [ ! -t 0 ]; then echo "error: no terminal to confirm on: run with CONFIRM=yes" >&2; exit 1; fi; \
	  read -r -p "Type 'reset' to continue: " answer; \
	  if [ "$$answer" != reset ]; then echo "aborted" >&2; exit 1; fi; \
	fi
	$(if $(ops_local),,$(COMPOSE) stop backend)
	$(backend_run) migrate --down --to 0
	$(backend_run) migrate
	@$(if $(ops_local),true,echo "database reset; start the backend again with: make docker-up")

db-shell: ## Open psql on the compose database (LOCAL=1: sqlite3 or psql on DATABASE_URL)
ifeq ($(filter 1 yes true,$(LOCAL)),)
	@if [ -n "$(ops_local)" ]; then \
	  echo "error: no Docker engine answers; use LOCAL=1 for the local database" >&2; exit 1; \
	fi
	$(COMPOSE) exec db sh -c 'exec psql -U "$$POSTGRES_USER" -d "$$POSTGRES_DB"'
else
	@url="$${DATABASE_URL:-}"; \
	if [ -z "$$url" ] && [ -f .env ]; then url="$$(sed -n 's/^[[:space:]]*DATABASE_URL[[:space:]]*=[[:space:]]*//p' .env | tail -n 1)"; fi; \
	url="$${url:-sqlite://data/backend.db?mode=rwc}"; \
	case "$$url" in \
	  sqlite:*) file="$${url#sqlite:}"; file="$${file#//}"; file="$${file%%\?*}"; exec sqlite3 "$$file" ;; \
	  *) exec psql "$$url" ;; \
	esac
endif

env-check: ## Validate .env with the backend's own check (backend check-config)
	$(require_env_file)
	$(if $(ops_local),cargo run -q -p backend --locked --,$(COMPOSE) run --rm --no-deps backend) check-config
