#!/usr/bin/env bash
# gpu-check.sh -- the CUDA device check: builds the CUDA example, runs the GPU tests and prints
# the benchmark table, in under three minutes.
#
#   scripts/gpu-check.sh build   # on a machine with Go: bin/scope and the test binaries
#                                # bin/gpu.test, bin/engine.test (CGO_ENABLED=0)
#   scripts/gpu-check.sh run     # on the GPU machine (needs no Go): cmake + nvcc build of
#                                # invert and invert-cuda into build-gpu/plugins, the GPU tests,
#                                # the benchmark table
#   scripts/gpu-check.sh         # both (a GPU machine with Go); `make gpu-check` runs this
#
# The run mode needs an NVIDIA GPU with its driver, the CUDA toolkit (nvcc; /usr/local/cuda/bin
# is searched too), cmake and a C compiler. Tests that find no GPU skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mode=${1:-all}

build() {
	command -v go >/dev/null || { echo "gpu-check build: no Go toolchain here" >&2; exit 1; }
	mkdir -p bin
	echo "== build: bin/scope, bin/gpu.test, bin/engine.test (CGO_ENABLED=0)"
	CGO_ENABLED=0 go build -o bin/scope ./cmd/scope
	CGO_ENABLED=0 go test -c -o bin/gpu.test ./gpu
	CGO_ENABLED=0 go test -c -o bin/engine.test ./engine
}

run() {
	local start=$SECONDS
	for b in bin/scope bin/gpu.test bin/engine.test; do
		[[ -x $b ]] || { echo "gpu-check run: $b is missing: run 'scripts/gpu-check.sh build' first" >&2; exit 1; }
	done
	echo "== machine"
	bin/scope doctor
	command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,pcie.link.gen.current,pcie.link.width.current --format=csv || true
	# The driver-level tests need no toolkit: run them first.
	echo "== GPU tests: gpu (driver binding, runtime kernels, bandwidth)"
	(cd gpu && timeout 120 ../bin/gpu.test -test.run GPU -test.v -test.count 1)
	if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
		export PATH=/usr/local/cuda/bin:$PATH
	fi
	command -v nvcc >/dev/null || { echo "gpu-check run: no nvcc (install the CUDA toolkit)" >&2; exit 1; }
	nvcc --version | tail -2

	echo "== build invert and invert-cuda (cmake, nvcc)"
	local archs=()
	# CMake >= 3.24 compiles for this machine's GPU; older ones use nvcc's default + PTX JIT.
	if cmake --version | awk 'NR==1 { split($3, v, "."); exit !(v[1] > 3 || (v[1] == 3 && v[2] >= 24)) }'; then
		archs=(-DCMAKE_CUDA_ARCHITECTURES=native)
	fi
	mkdir -p build-gpu
	cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release "${archs[@]}" >build-gpu/cmake.log 2>&1 || { cat build-gpu/cmake.log; exit 1; }
	grep -q "No CUDA compiler" build-gpu/cmake.log && { cat build-gpu/cmake.log; echo "gpu-check run: CMake found no CUDA compiler" >&2; exit 1; }
	cmake --build build-gpu -j"$(nproc)" --target invert invert-cuda >>build-gpu/cmake.log 2>&1 || { tail -40 build-gpu/cmake.log; exit 1; }
	local plugins=$root/build-gpu/plugins
	ls -l "$plugins"/invert.so "$plugins"/invert-cuda.so
	SCOPE_PLUGIN_PATH=$plugins bin/scope pipelines | grep -A2 '^invert-cuda'
	echo "-- scope run invert-cuda (smoke test)"
	SCOPE_PLUGIN_PATH=$plugins timeout 60 bin/scope run invert-cuda,invert-cuda --size 1920x1080 --frames 120

	echo "== GPU tests: engine (+ benchmark)"
	(cd engine && SCOPE_GPU_PLUGINS=$plugins SCOPE_GPU_BENCH=1 timeout 150 ../bin/engine.test -test.run GPU -test.v -test.count 1)
	echo "== scope bench invert-cuda (includes the source's frame copy)"
	SCOPE_PLUGIN_PATH=$plugins timeout 60 bin/scope bench invert-cuda --size 1920x1080 --frames 300
	echo "== gpu-check: done in $((SECONDS - start)) s"
}

case $mode in
build) build ;;
run) run ;;
all) build && run ;;
*) echo "usage: $0 [build|run]" >&2; exit 2 ;;
esac
