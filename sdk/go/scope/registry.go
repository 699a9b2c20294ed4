package scope

/*
#include "sdk.h"
*/
import "C"

import (
	"errors"
	"path"
	"runtime/debug"
	"strings"
	"sync"
	"unsafe"
)

// registry is the library's process-wide state. One plugin library is one Go runtime, so this
// state is per plugin by nature: two Go plugins loaded into one process each have their own
// runtime and their own registry. Register and SetInfo fill it during package init; the host's
// register_pipelines turns it into C descriptors.
var registry struct {
	mu        sync.Mutex
	info      Info
	infoRead  bool        // the entry table was built from info
	pipelines []*pipeline // in registration order; index i is descriptor i
	errs      []error     // description mistakes found by Register
	loaded    bool        // the host has called register_pipelines once

	refs int           // register_pipelines calls not yet matched by unregister_pipelines
	mem  cMemory       // the published descriptors; freed when refs drops to 0
	host *C.scope_host // the host of the current registration (for logging from destroy)
}

// cMemory tracks C allocations so they can be freed together.
type cMemory struct{ ptrs []unsafe.Pointer }

// alloc returns n zeroed elements of size bytes in C memory (never nil).
func (m *cMemory) alloc(n, size int) unsafe.Pointer {
	if n == 0 {
		n = 1
	}
	p := C.calloc(C.size_t(n), C.size_t(size))
	if p == nil {
		panic("out of memory")
	}
	m.ptrs = append(m.ptrs, p)
	return p
}

// str returns s as a C string; "" gives nil when nullable (the ABI's "none").
func (m *cMemory) str(s string, nullable bool) *C.char {
	if s == "" && nullable {
		return nil
	}
	p := C.CString(s)
	m.ptrs = append(m.ptrs, unsafe.Pointer(p))
	return p
}

func (m *cMemory) free() {
	for _, p := range m.ptrs {
		C.free(p)
	}
	m.ptrs = nil
}

// pluginInfo returns the library info, with the documented defaults filled in, and freezes it.
func pluginInfo() Info {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	registry.infoRead = true
	info := registry.info
	if info.Name == "" || info.Version == "" {
		name, version := "scope-go-plugin", "0.0.0"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path != "" {
			name = path.Base(bi.Main.Path)
			if v := bi.Main.Version; v != "" && v != "(devel)" {
				version = strings.TrimPrefix(v, "v")
			}
		}
		if info.Name == "" {
			info.Name = name
		}
		if info.Version == "" {
			info.Version = version
		}
	}
	return info
}

// register handles register_pipelines: the first call builds and publishes the C descriptors,
// later ones count references.
func register(host *C.scope_host) error {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	registry.loaded = true
	if len(registry.errs) > 0 {
		msgs := make([]string, len(registry.errs))
		for i, err := range registry.errs {
			msgs[i] = err.Error()
		}
		return errors.New("invalid pipeline description: " + strings.Join(msgs, "; "))
	}
	if len(registry.pipelines) == 0 {
		return errors.New("no pipelines registered: call scope.Register from an init function")
	}
	if registry.refs == 0 {
		descs := buildDescriptors(&registry.mem, registry.pipelines)
		C.scope_sdk_publish(descs, C.uint32_t(len(registry.pipelines)))
		registry.host = host
	}
	registry.refs++
	return nil
}

// unregister handles unregister_pipelines: the last one unpublishes and frees the descriptors.
// Every instance has been destroyed before (plugin.h guarantees it).
func unregister() {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.refs == 0 {
		return
	}
	registry.refs--
	if registry.refs == 0 {
		C.scope_sdk_publish(nil, 0)
		registry.mem.free()
		registry.host = nil
	}
}

// hostForLog returns the host of the current registration, or nil.
func hostForLog() *C.scope_host {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return registry.host
}

// lookupPipeline returns registered pipeline i, or nil. The slice does not change after the
// host's first register_pipelines, which happens before any create.
func lookupPipeline(i int) *pipeline {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if i < 0 || i >= len(registry.pipelines) {
		return nil
	}
	return registry.pipelines[i]
}

// buildDescriptors writes the scope_pipeline_desc array (and everything it points at) into C
// memory. The host keeps reading these after register_pipelines returns, and cgo forbids C
// from keeping Go pointers, so nothing here points into Go memory.
func buildDescriptors(m *cMemory, pipes []*pipeline) *C.scope_pipeline_desc {
	descs := unsafe.Slice((*C.scope_pipeline_desc)(m.alloc(len(pipes), C.sizeof_scope_pipeline_desc)), len(pipes))
	for i, p := range pipes {
		d := &descs[i]
		d.struct_size = C.sizeof_scope_pipeline_desc
		d.flags = C.uint32_t(p.Flags)
		d.id = m.str(p.ID, false)
		d.name = m.str(p.Name, false)
		d.description = m.str(p.Description, true)
		d.version = m.str(p.Version, true)
		d.author = m.str(p.Author, true)
		d.docs_url = m.str(p.DocsURL, true)

		modes := unsafe.Slice((*C.scope_mode_desc)(m.alloc(len(p.Modes), C.sizeof_scope_mode_desc)), len(p.Modes))
		for j, mode := range p.Modes {
			modes[j] = C.scope_mode_desc{
				struct_size: C.sizeof_scope_mode_desc,
				mode:        C.uint32_t(mode.Kind),
				width:       C.uint32_t(mode.Width),
				height:      C.uint32_t(mode.Height),
				input_size:  C.uint32_t(mode.InputSize),
			}
			if mode.Default {
				modes[j].is_default = 1
			}
		}
		d.modes = &modes[0]
		d.mode_count = C.uint32_t(len(modes))
		d.memory = C.uint32_t(p.Memory)

		if len(p.Params) > 0 {
			params := unsafe.Slice((*C.scope_param_desc)(m.alloc(len(p.Params), C.sizeof_scope_param_desc)), len(p.Params))
			for j, prm := range p.Params {
				fillParam(m, &params[j], prm)
			}
			d.params = &params[0]
			d.param_count = C.uint32_t(len(params))
		}
		d.threading = C.uint32_t(p.Threading)
		if len(p.InputPorts) > 0 {
			ports := unsafe.Slice((**C.char)(m.alloc(len(p.InputPorts), int(unsafe.Sizeof((*C.char)(nil))))), len(p.InputPorts))
			for j, name := range p.InputPorts {
				ports[j] = m.str(name, false)
			}
			d.input_ports = &ports[0]
			d.input_port_count = C.uint32_t(len(ports))
		}
		// create/destroy/prepare/call are set by scope_sdk_publish: they are C trampolines.
	}
	return &descs[0]
}

// fillParam writes one scope_param_desc.
func fillParam(m *cMemory, d *C.scope_param_desc, p Param) {
	d.struct_size = C.sizeof_scope_param_desc
	d._type = C.uint32_t(p.typ)
	d.key = m.str(p.key, false)
	d.label = m.str(p.label, true)
	d.description = m.str(p.description, true)
	d.flags = C.uint32_t(p.flags)
	d.category = C.uint32_t(p.category)
	d.order = C.int32_t(p.order)
	d.modes = C.uint32_t(p.modes)
	d.min_value = C.double(p.min)
	d.max_value = C.double(p.max)
	d.step = C.double(p.step)
	d.default_number = C.double(p.number)
	switch p.typ {
	case ParamString:
		d.default_string = m.str(p.str, false)
	case ParamEnum:
		d.default_string = m.str(p.str, false)
		opts := unsafe.Slice((*C.scope_enum_option)(m.alloc(len(p.options), C.sizeof_scope_enum_option)), len(p.options))
		for k, o := range p.options {
			opts[k].struct_size = C.sizeof_scope_enum_option
			opts[k].key = m.str(o.Key, false)
			opts[k].label = m.str(o.Label, true)
		}
		d.options = &opts[0]
		d.option_count = C.uint32_t(len(opts))
	case ParamColor:
		d.default_color = [4]C.float{C.float(p.color.R), C.float(p.color.G), C.float(p.color.B), C.float(p.color.A)}
	}
}
