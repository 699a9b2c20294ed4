package abi

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// layouts pairs each C struct of plugin.h with its Go mirror; C field names are listed in
// declaration order and matched with the Go struct's fields in order.
var layouts = []struct {
	c      string
	goType any
	fields []string
}{
	{"scope_error", ErrorBuf{}, []string{"struct_size", "capacity", "message"}},
	{"scope_host", Host{}, []string{"struct_size", "abi_major", "abi_minor", "name", "version", "host_data", "log", "get_extension", "parallel_for", "worker_count", "reserved"}},
	{"scope_frame_format", FrameFormat{}, []string{"struct_size", "width", "height", "channels", "element_type", "memory"}},
	{"scope_frame", Frame{}, []string{"struct_size", "width", "height", "channels", "element_type", "memory", "pitch", "data", "cuda_stream", "cuda_device", "flags", "timestamp_us", "index"}},
	{"scope_frame_list", FrameList{}, []string{"frames", "count", "reserved"}},
	{"scope_audio", Audio{}, []string{"struct_size", "sample_rate", "channels", "capacity_frames", "frames", "reserved", "samples"}},
	{"scope_enum_option", EnumOption{}, []string{"struct_size", "reserved", "key", "label"}},
	{"scope_param_desc", ParamDesc{}, []string{"struct_size", "type", "key", "label", "description", "flags", "category", "order", "modes", "min_value", "max_value", "step", "default_number", "default_string", "options", "option_count", "default_color", "reserved"}},
	{"scope_value", Value{}, []string{"key", "type", "reserved", "as"}},
	{"scope_params", Params{}, []string{"struct_size", "count", "values"}},
	{"scope_prompt", Prompt{}, []string{"text", "weight", "reserved"}},
	{"scope_mode_desc", ModeDesc{}, []string{"struct_size", "mode", "is_default", "width", "height", "input_size"}},
	{"scope_create_args", CreateArgs{}, []string{"struct_size", "mode", "pipeline", "params", "cuda_device", "reserved"}},
	{"scope_prepare_args", PrepareArgs{}, []string{"struct_size", "mode", "params", "input_formats", "input_port_count", "reserved"}},
	{"scope_requirements", Requirements{}, []string{"struct_size", "input_size", "output_width", "output_height", "output_channels", "output_element_type", "output_memory", "input_element_type", "input_memory", "input_channels", "audio_max_frames", "reserved"}},
	{"scope_call", Call{}, []string{"struct_size", "flags", "inputs", "input_port_count", "reserved", "output", "params", "prompts", "prompt_count", "reserved2", "audio", "call_index", "timestamp_us"}},
	{"scope_pipeline_desc", PipelineDesc{}, []string{"struct_size", "flags", "id", "name", "description", "version", "author", "docs_url", "modes", "mode_count", "memory", "params", "param_count", "threading", "input_ports", "input_port_count", "reserved", "create", "destroy", "prepare", "call"}},
	{"scope_plugin", Plugin{}, []string{"struct_size", "abi_major", "abi_minor", "name", "version", "description", "register_pipelines", "unregister_pipelines", "pipeline_count", "get_pipeline", "get_extension"}},
}

// constants pairs C constants with the Go values that mirror them.
var constants = map[string]int64{
	"SCOPE_ABI_VERSION_MAJOR": VersionMajor, "SCOPE_ABI_VERSION_MINOR": VersionMinor,
	"SCOPE_OK": int64(OK), "SCOPE_ERROR": int64(Error), "SCOPE_ERROR_INVALID_ARGUMENT": int64(ErrorInvalidArgument),
	"SCOPE_ERROR_UNSUPPORTED": int64(ErrorUnsupported), "SCOPE_ERROR_OUT_OF_MEMORY": int64(ErrorOutOfMemory),
	"SCOPE_ERROR_BAD_STATE": int64(ErrorBadState), "SCOPE_ERROR_CUDA": int64(ErrorCUDA),
	"SCOPE_LOG_DEBUG": int64(LogDebug), "SCOPE_LOG_INFO": int64(LogInfo), "SCOPE_LOG_WARN": int64(LogWarn), "SCOPE_LOG_ERROR": int64(LogError),
	"SCOPE_ELEMENT_U8": int64(ElementU8), "SCOPE_ELEMENT_F32": int64(ElementF32),
	"SCOPE_MEMORY_HOST": int64(MemoryHost), "SCOPE_MEMORY_CUDA": int64(MemoryCUDA),
	"SCOPE_MODE_TEXT": int64(ModeText), "SCOPE_MODE_VIDEO": int64(ModeVideo),
	"SCOPE_PARAM_BOOL": int64(ParamBool), "SCOPE_PARAM_INT": int64(ParamInt), "SCOPE_PARAM_FLOAT": int64(ParamFloat),
	"SCOPE_PARAM_STRING": int64(ParamString), "SCOPE_PARAM_ENUM": int64(ParamEnum), "SCOPE_PARAM_COLOR": int64(ParamColor),
	"SCOPE_CATEGORY_CONFIGURATION": int64(CategoryConfiguration), "SCOPE_CATEGORY_INPUT": int64(CategoryInput),
	"SCOPE_PARAM_LOAD_TIME": int64(ParamLoadTime), "SCOPE_PARAM_HIDDEN": int64(ParamHidden),
	"SCOPE_PIPELINE_SUPPORTS_PROMPTS": int64(PipelineSupportsPrompts), "SCOPE_PIPELINE_PRODUCES_AUDIO": int64(PipelineProducesAudio),
	"SCOPE_PIPELINE_NO_VIDEO": int64(PipelineNoVideo), "SCOPE_PIPELINE_NONDETERMINISTIC": int64(PipelineNondeterministic),
	"SCOPE_THREADING_INSTANCE": int64(ThreadingInstance), "SCOPE_THREADING_SERIAL": int64(ThreadingSerial),
	"SCOPE_CALL_FIRST": int64(CallFirst), "SCOPE_FRAME_ALIGNMENT": FrameAlignment, "SCOPE_ERROR_MIN_CAPACITY": ErrorMinCapacity, "SCOPE_CALL_PARAMS_CHANGED": int64(CallParamsChanged),
}

// TestLayoutMatchesC compiles a C program that prints sizeof/offsetof of every struct field in
// plugin.h and checks the Go mirror against it, field by field.
func TestLayoutMatchesC(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Fatalf("a C compiler is needed to check the ABI layout: %v (install gcc)", err)
	}
	dir := t.TempDir()
	var src strings.Builder
	src.WriteString("#include <stddef.h>\n#include <stdio.h>\n#include <scope/plugin.h>\nint main(void) {\n")
	for _, l := range layouts {
		fmt.Fprintf(&src, "  printf(\"%s sizeof %%zu\\n\", sizeof(%s));\n", l.c, l.c)
		for _, f := range l.fields {
			fmt.Fprintf(&src, "  printf(\"%s %s %%zu %%zu\\n\", offsetof(%s, %s), sizeof(((%s *)0)->%s));\n", l.c, f, l.c, f, l.c, f)
		}
	}
	for name := range constants {
		fmt.Fprintf(&src, "  printf(\"const %s %%lld\\n\", (long long)(%s));\n", name, name)
	}
	src.WriteString("  return 0;\n}\n")
	cfile := filepath.Join(dir, "layout.c")
	if err := os.WriteFile(cfile, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "layout")
	if out, err := exec.Command(cc, "-std=c99", "-Wall", "-Werror", "-I", filepath.Join("..", "include"), cfile, "-o", exe).CombinedOutput(); err != nil {
		t.Fatalf("compile layout program: %v\n%s", err, out)
	}
	out, err := exec.Command(exe).Output()
	if err != nil {
		t.Fatalf("run layout program: %v", err)
	}
	c := map[string][2]uintptr{}
	consts := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		switch {
		case w[0] == "const":
			v, _ := strconv.ParseInt(w[2], 10, 64)
			consts[w[1]] = v
		case w[1] == "sizeof":
			n, _ := strconv.ParseUint(w[2], 10, 64)
			c[w[0]] = [2]uintptr{uintptr(n), 0}
		default:
			off, _ := strconv.ParseUint(w[2], 10, 64)
			size, _ := strconv.ParseUint(w[3], 10, 64)
			c[w[0]+"."+w[1]] = [2]uintptr{uintptr(off), uintptr(size)}
		}
	}
	for _, l := range layouts {
		typ := reflect.TypeOf(l.goType)
		if got, want := typ.Size(), c[l.c][0]; got != want {
			t.Errorf("%s: Go %s is %d bytes, C says %d", l.c, typ.Name(), got, want)
		}
		if typ.NumField() != len(l.fields) {
			t.Errorf("%s: Go %s has %d fields, the table lists %d C fields", l.c, typ.Name(), typ.NumField(), len(l.fields))
			continue
		}
		for i, name := range l.fields {
			gf := typ.Field(i)
			want := c[l.c+"."+name]
			if gf.Offset != want[0] || gf.Type.Size() != want[1] {
				t.Errorf("%s.%s: C offset %d size %d, Go %s.%s offset %d size %d",
					l.c, name, want[0], want[1], typ.Name(), gf.Name, gf.Offset, gf.Type.Size())
			}
		}
	}
	for name, want := range constants {
		if got, ok := consts[name]; !ok || got != want {
			t.Errorf("constant %s: C %d, Go %d", name, got, want)
		}
	}
}
