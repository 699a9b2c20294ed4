package scope

// The Go half of the entry points: each function here is called by one C trampoline in
// entry.c. Because this file uses //export, its preamble may only declare (cgo copies it into
// two C files), and no declaration may name an exported function: sdk.h holds declarations
// only and no name below appears in it.

/*
#include "sdk.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"sync/atomic"
)

// rangeJob is one Host.ParallelFor call, reached from each range through a cgo.Handle.
type rangeJob struct {
	f     func(begin, end int)
	panic atomic.Pointer[any] // the first panic of a range, raised again on the caller
}

//export scopeSDKRange
func scopeSDKRange(job C.uintptr_t, begin, end C.uint32_t) {
	j := cgo.Handle(job).Value().(*rangeJob)
	defer func() {
		if r := recover(); r != nil {
			j.panic.CompareAndSwap(nil, &r)
		}
	}()
	j.f(int(begin), int(end))
}

// instance is what an instance handle refers to.
type instance struct {
	impl     Instance
	pipe     *pipeline
	prepared bool // a Prepare succeeded and none failed since
	prep     PrepareContext
	call     CallContext
	cache    []string // string parameter values, by position (shared by prep and call)
}

//export scopeSDKPluginInfo
func scopeSDKPluginInfo(name, version, description **C.char) {
	// Called once (pthread_once in entry.c); the strings live as long as the library.
	info := pluginInfo()
	*name = C.CString(info.Name)
	*version = C.CString(info.Version)
	if info.Description != "" {
		*description = C.CString(info.Description)
	}
}

//export scopeSDKRegister
func scopeSDKRegister(host *C.scope_host, pluginPath *C.char, cerr *C.scope_error) (status C.scope_status) {
	defer recoverStatus(cerr, &status)
	if host != nil && host.abi_major != C.SCOPE_ABI_VERSION_MAJOR {
		return setError(cerr, StatusUnsupported, fmt.Sprintf("%s needs plugin ABI %d.x; the host has %d.x",
			pluginInfo().Name, C.SCOPE_ABI_VERSION_MAJOR, host.abi_major))
	}
	if err := register(host); err != nil {
		return fail(cerr, err)
	}
	return C.SCOPE_OK
}

//export scopeSDKUnregister
func scopeSDKUnregister() {
	defer func() { _ = recover() }() // nowhere to report; never cross the boundary
	unregister()
}

//export scopeSDKCreate
func scopeSDKCreate(index C.uint32_t, host *C.scope_host, args *C.scope_create_args, out *C.uintptr_t, cerr *C.scope_error) (status C.scope_status) {
	defer recoverStatus(cerr, &status)
	p := lookupPipeline(int(index))
	if p == nil {
		return setError(cerr, StatusInvalidArgument, "create: unknown pipeline")
	}
	ctx := &CreateContext{
		Pipeline:   p.ID,
		Mode:       ModeKind(args.mode),
		Params:     newParams(args.params, p, nil),
		CUDADevice: int(args.cuda_device),
		Host:       Host{c: host},
	}
	impl, err := p.New(ctx)
	if err != nil {
		return fail(cerr, err)
	}
	if impl == nil {
		return setError(cerr, StatusError, "create: New returned a nil Instance and no error")
	}
	inst := &instance{impl: impl, pipe: p, cache: make([]string, len(p.Params))}
	inst.call.strings = inst.cache
	*out = C.uintptr_t(cgo.NewHandle(inst))
	return C.SCOPE_OK
}

//export scopeSDKDestroy
func scopeSDKDestroy(handle C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			Host{c: hostForLog()}.Logf(LogError, "destroy: panic: %v", r)
		}
	}()
	h := cgo.Handle(handle)
	inst := h.Value().(*instance)
	h.Delete()
	inst.impl.Close()
}

//export scopeSDKPrepare
func scopeSDKPrepare(handle C.uintptr_t, args *C.scope_prepare_args, out *C.scope_requirements, cerr *C.scope_error) (status C.scope_status) {
	defer recoverStatus(cerr, &status)
	inst := cgo.Handle(handle).Value().(*instance)
	inst.prepared = false
	err := inst.prep.load(args, inst.pipe, inst.cache)
	if err == nil {
		var req Requirements
		req, err = inst.impl.Prepare(&inst.prep)
		if err == nil {
			err = req.write(out)
		}
	}
	inst.prep.Params = Params{}
	if err != nil {
		return fail(cerr, err)
	}
	inst.prepared = true
	return C.SCOPE_OK
}

//export scopeSDKCall
func scopeSDKCall(handle C.uintptr_t, call *C.scope_call, cerr *C.scope_error) (status C.scope_status) {
	defer recoverStatus(cerr, &status)
	inst := cgo.Handle(handle).Value().(*instance)
	if !inst.prepared {
		return setError(cerr, StatusBadState, "call before a successful prepare")
	}
	ctx := &inst.call
	defer ctx.forget()
	if err := ctx.load(call, inst.pipe); err != nil {
		return fail(cerr, err)
	}
	if err := inst.impl.Call(ctx); err != nil {
		return fail(cerr, err)
	}
	return C.SCOPE_OK
}
