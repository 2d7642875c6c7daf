# The two commands of the README, plus a few conveniences. Everything goes through
# CMake presets (CMakePresets.json); build trees are build/, build-asan/, ...
JOBS ?= $(shell nproc)
LISTEN ?= 127.0.0.1:8080
DATA ?= ./data

.PHONY: run test test-asan test-tsan test-clang build deps-build deps-test clean

# Installs missing Debian packages, builds Release, runs the server in the foreground.
# (Same build tree as `make test`, so it needs the test packages too.)
run: deps-test
	cmake --preset release >/dev/null
	cmake --build --preset release -j$(JOBS)
	./build/bin/httpkv-server --listen $(LISTEN) --data-dir $(DATA)

# Installs missing Debian packages, builds Release with tests, runs every test.
test: deps-test
	cmake --preset release >/dev/null
	cmake --build --preset release -j$(JOBS)
	ctest --preset release -j$(JOBS)

test-asan: deps-test
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j$(JOBS)
	ctest --preset asan -j$(JOBS)

test-tsan: deps-test
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j$(JOBS)
	ctest --preset tsan -j$(JOBS)

# clang: clang-tidy (.clang-tidy) over the libraries and tools, then the servers, tools and
# storage tests built with clang++ -Wthread-safety -Werror (storage's GUARDED_BY/REQUIRES),
# and the storage tests run (build-clang/).
test-clang:
	scripts/install-deps.sh clang
	cmake --preset clang >/dev/null
	scripts/run-clang-tidy.sh build-clang
	cmake --build --preset clang -j$(JOBS) --target httpkv-server httpkv httpkv-bench storage_tests
	ctest --preset clang -j$(JOBS) -L storage

build: deps-test
	cmake --preset release >/dev/null
	cmake --build --preset release -j$(JOBS)

deps-build:
	scripts/install-deps.sh build

deps-test:
	scripts/install-deps.sh test

clean:
	rm -rf build build-debug build-asan build-tsan build-clang build-fuzz
