package command

import (
	"fmt"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/gpu"
	"github.com/scopenative/scope/loader"
)

// EnvCUDALibrary names the CUDA driver library to load instead of libcuda.so.1 (unusual
// installs; tests point it at a missing file to see the no-GPU behaviour everywhere).
const EnvCUDALibrary = "SCOPE_CUDA_LIBRARY"

// gpuOptions are the options of every gpu.Open the CLI does.
func (a *app) gpuOptions() gpu.Options {
	return gpu.Options{Library: a.io.Env(EnvCUDALibrary)}
}

// needsCUDA reports whether a pipeline takes CUDA memory only.
func needsCUDA(p *loader.Pipeline) bool {
	return p.Memory&abi.MemoryCUDA != 0 && p.Memory&abi.MemoryHost == 0
}

// cudaSession is the CUDA device of a chain that has CUDA pipelines, bound to the goroutine
// that runs the chain.
type cudaSession struct {
	dev    *gpu.Device
	device *engine.CUDA
	unbind func()
}

// openCUDA opens device 0 when some pipeline of the chain accepts CUDA memory. A pipeline
// that needs it makes a missing GPU a usage error ("invert-cuda needs CUDA: <reason>"); for
// pipelines that also take host memory the chain runs on the host. The caller's goroutine is
// bound to the device until close.
func (a *app) openCUDA(pipelines []*loader.Pipeline) (*cudaSession, error) {
	var needs, wants *loader.Pipeline
	for _, p := range pipelines {
		if needsCUDA(p) && needs == nil {
			needs = p
		}
		if p.Memory&abi.MemoryCUDA != 0 && wants == nil {
			wants = p
		}
	}
	if wants == nil {
		return nil, nil
	}
	dev, err := gpu.OpenWith(0, a.gpuOptions())
	if err != nil {
		if needs != nil {
			return nil, usagef("%s needs CUDA: %v", needs.ID, err)
		}
		return nil, nil
	}
	unbind, err := dev.Bind()
	if err != nil {
		dev.Close()
		return nil, fmt.Errorf("use %s: %w", dev.Info().Name, err)
	}
	c, err := engine.NewCUDA(dev, engine.CUDAOptions{})
	if err != nil {
		unbind()
		dev.Close()
		return nil, err
	}
	return &cudaSession{dev: dev, device: c, unbind: unbind}, nil
}

// ordinal is the device ordinal instances are created for (-1 without CUDA).
func (c *cudaSession) ordinal() int {
	if c == nil {
		return -1
	}
	return c.dev.Ordinal()
}

// engineDevice is the engine's Device, or nil.
func (c *cudaSession) engineDevice() engine.Device {
	if c == nil {
		return nil
	}
	return c.device
}

// close frees the device buffers, unbinds and releases the device. Instances must be closed
// first.
func (c *cudaSession) close() {
	if c == nil {
		return
	}
	c.device.Close()
	c.unbind()
	c.dev.Close()
}
