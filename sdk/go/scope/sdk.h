/*
 * sdk.h -- declarations shared by the Go files of package scope and entry.c.
 *
 * Go files that use //export may only *declare* in their cgo preamble (the preamble is copied
 * into two C files), so everything here is a declaration; entry.c defines it. None of these names
 * equals a Go //export name: cgo would report "conflicting types" if a prototype here and the
 * prototype cgo writes for an exported Go function (in _cgo_export.h) named the same function.
 * That is why the exported entry, scope_plugin_entry, is written in C (entry.c) and reaches Go
 * through exports with their own names (scopeSDK*).
 */
#ifndef SCOPE_GO_SDK_H
#define SCOPE_GO_SDK_H

#include <stdlib.h>
#include <scope/plugin.h> /* the scope installation's header: see doc.go (#cgo CFLAGS) */

/* The SDK's own C functions stay inside the library (only the entry is exported, and the
 * validator's exports check has nothing to say about them). */
#if defined(__GNUC__) || defined(__clang__)
#define SCOPE_SDK_INTERNAL __attribute__((visibility("hidden")))
#else
#define SCOPE_SDK_INTERNAL
#endif

/* The library's one entry point (entry.c). */
SCOPE_EXPORT const scope_plugin *scope_plugin_entry(void);

/* Makes `count` descriptors at `pipelines` (C memory owned by the Go side) what
 * pipeline_count/get_pipeline return, and points their create/destroy/prepare/call at the C
 * trampolines. NULL, 0 clears the table. [load] */
SCOPE_SDK_INTERNAL void scope_sdk_publish(scope_pipeline_desc *pipelines, uint32_t count);

/* Calls host->log when the host has one. */
SCOPE_SDK_INTERNAL void scope_sdk_log(const scope_host *host, int32_t level, const char *message);

/* Runs the Go range job `job` (a runtime/cgo.Handle) over [0, count) with scope_parallel_for:
 * each range calls the exported Go function scopeSDKRange. [thread-safe] */
void scope_sdk_parallel_for(const scope_host *host, uint32_t count, uint32_t grain, uintptr_t job);

#endif /* SCOPE_GO_SDK_H */
