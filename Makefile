# Scope Native. The two commands a newcomer needs:
#   make demo   build everything and run color-generator -> invert into out/demo/
#   make test   run every test (CPU only; GPU and display tests skip with a reason)

GO        ?= go
BUILD     ?= build
PLUGINS   := $(BUILD)/plugins
export CGO_ENABLED ?= 0

.PHONY: all setup build examples demo test bench clean

all: build examples

# Installs missing Debian packages (as root) and Go modules; prints the apt-get line otherwise.
setup: .setup.stamp
.setup.stamp: scripts/setup.sh go.mod
	@scripts/setup.sh
	@touch $@

# bin/scope: pure Go, no cgo, runs on machines without a display or a GPU driver.
build: setup
	$(GO) build -o bin/scope ./cmd/scope

# The C example plugins, through the same CMake package plugin authors use.
examples: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j2
	@echo "plugins: $(PLUGINS)/"

demo: build examples
	@rm -rf out/demo && mkdir -p out/demo
	SCOPE_PLUGIN_PATH=$(PLUGINS) bin/scope run color-generator,invert \
		--param color_r=10,color_g=20,color_b=30 --frames 30 --output out/demo/%05d.png
	@echo
	@echo "demo: 30 frames of color-generator -> invert (expect RGB 245,235,225) in out/demo/"
	@ls out/demo | head -3; echo "..."

test: setup
	$(GO) test ./...

bench: build examples
	$(GO) test ./loader ./engine -run '^$$' -bench . -benchmem
	SCOPE_PLUGIN_PATH=$(PLUGINS) bin/scope bench invert --size 1920x1080 --frames 300

clean:
	rm -rf bin $(BUILD) out .setup.stamp
