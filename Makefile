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
# make chaos-matrix MATRIX=<name> [MATRIX_JOBS=2] [MATRIX_FLAGS="--repeat 3"]: specs/matrix/<name>.yaml,
# JUnit XML to artifacts/matrix-<name>.junit.xml (docs/matrix.md)
MATRIX ?=
MATRIX_JOBS ?= 1
MATRIX_FLAGS ?=

.PHONY: all deps configure build test test-sanitize fuzz bench chaos chaos-matrix clean format mutation

all: build

deps:
	@scripts/install-deps

$(BUILD_DIR)/CMakeCache.txt:
	@scripts/install-deps
	cmake -S . -B $(BUILD_DIR) $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

configure: deps $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Twice as many tests as cores: most integration tests spend their time waiting on the wall
# clock of a scenario's phases (tens of requests per second), not on the CPU. The one
# CPU-bound test, the clang build of the fuzzers, claims two slots (PROCESSORS 2).
TEST_JOBS ?= $(shell echo $$(( $(JOBS) * 2 )))

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(TEST_JOBS) --timeout 600

# The unit and integration suites built with AddressSanitizer and UBSan, in their own build
# directory. Not part of `make test`: the instrumented build and run take longer than CI's
# budget allows on 2 cores (see docs/running.md, "Checks outside make test").
SANITIZE_DIR ?= build-sanitize
test-sanitize: deps
	cmake -S . -B $(SANITIZE_DIR) $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja") \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFAULTLINE_SANITIZE=ON
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	cd $(SANITIZE_DIR) && \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
	  LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$(abspath tests/fuzz/ubsan.supp) \
	  FAULTLINE_DEMO_BIN=$(abspath $(SANITIZE_DIR)/demo-services/faultline-demo) \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -L 'unit|integration|lint'

# Every libFuzzer target for FUZZ_SECONDS each (default 10 minutes), two at a time, in the
# nested clang build that make test uses (CI runs them for 15 s each). Findings land in
# build/fuzz-corpus/<target>/artifacts/.
FUZZ_SECONDS ?= 600
fuzz: build
	cd $(BUILD_DIR) && FAULTLINE_FUZZ_SECONDS=$(FUZZ_SECONDS) ctest -L fuzz -j $(JOBS) --output-on-failure

# Every benchmark in bench/, one after the other, then one table (figure, faultline, peer, ratio,
# goal, met?), each ratio against a peer measured in the same run, kept in
# artifacts/bench-<UTC>.txt. About 20 minutes (P4 alone
# runs 10); QUICK=1 runs the short versions (about 5). Meaningful on an idle machine only.
bench: build
	bench/run-all --build-dir $(BUILD_DIR) $(if $(filter 1,$(QUICK)),--quick)

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

chaos-matrix: build
	@if [ -z "$(MATRIX)" ]; then \
	  echo "make chaos-matrix MATRIX=<name>: one of"; ls specs/matrix/ | grep -v -- '-' | sed -n 's/\.yaml$$//p'; \
	  exit 2; \
	else \
	  $(FAULTLINE) matrix specs/matrix/$(MATRIX).yaml --jobs $(MATRIX_JOBS) \
	    --junit artifacts/matrix-$(MATRIX).junit.xml $(MATRIX_FLAGS); \
	fi

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR)
