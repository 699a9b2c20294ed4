# Scope Native. The two commands a newcomer needs:
#   make demo   build everything and run color-generator -> invert into out/demo/
#   make test   run every test (CPU only; GPU and display tests skip with a reason)

GO        ?= go
BUILD     ?= build
PLUGINS   := $(BUILD)/plugins
export CGO_ENABLED ?= 0
# The CMake builds' sub-makes print no "gmake[1]: Entering directory" lines.
MAKEFLAGS += --no-print-directory

.PHONY: all setup build examples install demo test bench gpu-check clean

all: build examples

# Installs missing Debian packages (as root) and Go modules; prints the apt-get line otherwise.
setup: .setup.stamp
.setup.stamp: scripts/setup.sh go.mod
	@scripts/setup.sh
	@touch $@

# bin/scope: pure Go, no cgo, runs on machines without a display or a GPU driver.
# bin/scope-preview: the preview window (Ebitengine + malgo) needs cgo and the X11/GL headers.
build: setup
	$(GO) build -o bin/scope ./cmd/scope
	CGO_ENABLED=1 $(GO) build -o bin/scope-preview ./cmd/scope-preview

# The C and C++ example plugins, through the same CMake package plugin authors use; then the
# Rust and Go ones with cargo and go where they are installed (a line says which were skipped).
examples: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j2
	@scripts/build-examples.sh $(PLUGINS)
	@echo "plugins: $(PLUGINS)/"

# scope, scope-preview, the SDK and the example plugins into PREFIX (bin/ and share/scope/), so
# that `scope` works from any folder: make install PREFIX=~/.local
PREFIX    ?= /usr/local
install: build examples
	@BIN_DIR=bin PLUGINS_DIR=$(PLUGINS) scripts/install.sh $(PREFIX)

demo: build examples
	@rm -rf out/demo && mkdir -p out/demo
	SCOPE_PLUGIN_PATH=$(PLUGINS) bin/scope run color-generator,invert \
		--param color_r=10,color_g=20,color_b=30 --frames 30 --output out/demo/%05d.png
	@echo
	@echo "demo: 30 frames of color-generator -> invert (expect RGB 245,235,225) in out/demo/"
	@ls out/demo | head -3; echo "..."

# The module's tests run without cgo, as bin/scope is built (the Xvfb preview test builds
# scope-preview with cgo itself); the cgo-only code is vetted with cgo and the audio player
# (null backend) is tested with it. Packages linking Ebitengine have no cgo test binaries: they
# would panic without a display. The Go SDK (a module of its own) is tested with cgo; the Rust
# SDK and the Rust example with cargo, when it is installed.
test: setup
	$(GO) test -timeout 30m ./...
	CGO_ENABLED=1 $(GO) vet ./render/... ./audio/player/... ./cmd/scope-preview/...
	CGO_ENABLED=1 $(GO) test ./audio/player/...
	cd sdk/go && CGO_ENABLED=1 $(GO) test ./...
	@if command -v cargo >/dev/null 2>&1; then \
		echo "cargo test (sdk/rust, examples/rust/invert)"; \
		(cd sdk/rust && cargo test --offline --quiet) && \
		(cd examples/rust/invert && cargo test --offline --quiet); \
	else \
		echo "skipping the Rust SDK tests: cargo is not installed"; \
	fi
	@# Fuzz targets' corpora ran above as tests; SCOPE_FUZZ=1 also fuzzes each for a few seconds.
	@if [ "$${SCOPE_FUZZ:-}" = 1 ]; then scripts/fuzz.sh; else echo "fuzz corpora ran as tests; SCOPE_FUZZ=1 make test fuzzes each target (SCOPE_FUZZ_TIME, default 5s)"; fi
	@# GPU tests pass silently only where they ran: say which skipped, and why.
	@$(GO) test -count=1 -run GPU -v ./gpu/ ./engine/ 2>&1 | grep -B1 -- '--- SKIP' | grep -v -- '^--$$' || true

bench: build examples
	$(GO) test ./loader ./engine -run '^$$' -bench . -benchmem
	SCOPE_PLUGIN_PATH=$(PLUGINS) bin/scope bench invert --size 1920x1080 --frames 300

# On a machine with an NVIDIA GPU and the CUDA toolkit: builds invert-cuda, runs the GPU tests
# and prints the benchmark table (scripts/gpu-check.sh; its `build` and `run` halves split the
# Go build from the GPU machine).
gpu-check:
	scripts/gpu-check.sh

clean:
	rm -rf bin $(BUILD) build-gpu out .setup.stamp
