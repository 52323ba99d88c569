# faultline: the two commands a user needs are `make chaos SCENARIO=<name>` and `make test`.
# Both install missing Debian packages first (scripts/install-deps).

BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FAULTLINE := $(BUILD_DIR)/engine/cli/faultline
# envs/local.yaml starts the demo services from this binary.
export FAULTLINE_DEMO_BIN ?= $(abspath $(BUILD_DIR)/demo-services/faultline-demo)
# make chaos SCENARIO=<name> [ENVFILE=envs/local-fixed.yaml] [TAG=before] [CHAOS_FLAGS="--seed 7"]
SCENARIO ?=
ENVFILE ?=
TAG ?=
CHAOS_FLAGS ?=

.PHONY: all deps configure build test chaos clean format mutation

all: build

deps:
	@scripts/install-deps

$(BUILD_DIR)/CMakeCache.txt:
	@scripts/install-deps
	cmake -S . -B $(BUILD_DIR) $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

configure: deps $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

# Mutation testing of the pure stages (plan, dsl, observe, judge, compare): applies a fixed list
# of mutants to a copy of the tree in build-mutation/, rebuilds and runs the stage's unit tests
# there, restores the copy, and lists the survivors. Not part of `make test` or CI: it takes a
# while (the first run builds the copy).
mutation: deps
	scripts/mutation

chaos: build
	@if [ -z "$(SCENARIO)" ]; then \
	  $(FAULTLINE) list specs; \
	else \
	  $(FAULTLINE) run specs/$(SCENARIO).yaml $(if $(ENVFILE),--env $(ENVFILE)) $(if $(TAG),--tag $(TAG)) $(CHAOS_FLAGS); \
	fi

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR)
