package session

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/scopenative/scope/plugins/hotswap"
)

// readSessionsDoc returns docs/sessions.md.
func readSessionsDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "sessions.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docFields parses the field table that follows heading (a line starting with it) in the
// sessions doc: `| offset | `name` | type | what |` rows, by name.
func docFields(t *testing.T, doc, heading string) map[string][2]string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "\n"+heading)
	if !ok {
		t.Fatalf("docs/sessions.md has no %q", heading)
	}
	row := regexp.MustCompile("^\\| (\\d+) \\| `([a-z_]+)` \\| ([a-z0-9]+) \\|")
	out := map[string][2]string{}
	started := false
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		if m := row.FindStringSubmatch(line); m != nil {
			out[m[2]] = [2]string{m[1], m[3]}
		}
	}
	return out
}

// snake turns a Go field name into the doc's name: SlotSize -> slot_size, WriterPID -> writer_pid.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 && !unicode.IsUpper(rune(name[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// checkStruct compares every named field of typ with the doc's table (offset and type), and
// the other way round.
func checkStruct(t *testing.T, typ reflect.Type, doc map[string][2]string) {
	t.Helper()
	kinds := map[reflect.Kind]string{reflect.Uint64: "u64", reflect.Int64: "i64", reflect.Uint32: "u32"}
	seen := map[string]bool{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.Name == "_" {
			continue
		}
		name := snake(f.Name)
		seen[name] = true
		want := [2]string{strconv.Itoa(int(f.Offset)), kinds[f.Type.Kind()]}
		if got, ok := doc[name]; !ok {
			t.Errorf("%s.%s (offset %s, %s) is not documented", typ.Name(), f.Name, want[0], want[1])
		} else if got != want {
			t.Errorf("%s.%s: documented at offset %s as %s, the code has offset %s, %s", typ.Name(), f.Name, got[0], got[1], want[0], want[1])
		}
	}
	for name := range doc {
		if !seen[name] {
			t.Errorf("the doc lists %s in %s, which the code does not have", name, typ.Name())
		}
	}
}

// TestRingLayoutDoc: the frame ring's byte layout in docs/sessions.md (every header and slot
// record field's offset and type, and where each region starts) is the code's, so a reader
// written from the doc alone reads the ring the session writes.
func TestRingLayoutDoc(t *testing.T) {
	doc := readSessionsDoc(t)
	checkStruct(t, reflect.TypeOf(ringHeader{}), docFields(t, doc, "Header, at offset 0:"))
	checkStruct(t, reflect.TypeOf(slotMeta{}), docFields(t, doc, "Slot record *i*, at offset 256"))
	for _, want := range []string{
		fmt.Sprintf("| 0 | %d | the header", reflect.TypeOf(ringHeader{}).Size()),
		fmt.Sprintf("| %d | %d × %d | the slot records", metaOffset, reflect.TypeOf(slotMeta{}).Size(), MaxSlots),
		fmt.Sprintf("record *i* at %d + %d·*i*", metaOffset, reflect.TypeOf(slotMeta{}).Size()),
		fmt.Sprintf("| %d | %d | the audio ring: %d frames", headerSize, audioBytes(), audioCapacity),
		fmt.Sprintf("| %d | `slots` × `slot_size` | the slots: slot *i* at %d + *i*·`slot_size`", slotsOffset(), slotsOffset()),
		fmt.Sprintf("`0x%x`", uint64(ringMagic)),
		fmt.Sprintf("Slot record *i*, at offset %d + %d·*i*", metaOffset, reflect.TypeOf(slotMeta{}).Size()),
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/sessions.md lacks %q", want)
		}
	}
}

// TestSessionsDocShellDir: the doc's shell line that finds the runtime directory gives the
// folder DefaultDir uses, with XDG_RUNTIME_DIR set and unset.
func TestSessionsDocShellDir(t *testing.T) {
	doc := readSessionsDoc(t)
	m := regexp.MustCompile(`(?m)^dir=.*$`).FindString(doc)
	if m == "" {
		t.Fatal("docs/sessions.md has no dir=... line for the socat example")
	}
	if strings.Contains(doc, "UNIX-CONNECT:$XDG_RUNTIME_DIR") {
		t.Error("the socat example still uses $XDG_RUNTIME_DIR, which may be unset")
	}
	xdg := t.TempDir()
	for _, env := range []map[string]string{{"XDG_RUNTIME_DIR": xdg}, {}} {
		sh := exec.Command("sh", "-c", m+`; printf %s "$dir"`)
		sh.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir()}
		for k, v := range env {
			sh.Env = append(sh.Env, k+"="+v)
		}
		out, err := sh.Output()
		if err != nil {
			t.Fatalf("sh: %v", err)
		}
		want, err := DefaultDir(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(want) {
			t.Errorf("env %v: the doc's line gives %s, scope uses %s", env, out, want)
		}
	}
}

// TestSessionsDocOps: the ops table of docs/sessions.md has a row for every operation a
// session answers, the plugin manager's reload and reload-status included.
func TestSessionsDocOps(t *testing.T) {
	doc := readSessionsDoc(t)
	for _, op := range []string{OpInfo, OpSet, OpPause, OpResume, OpStop, OpSaveFrame, OpPrompts, OpReload, hotswap.Op, hotswap.StatusOp} {
		if !strings.Contains(doc, "\n| `"+op+"` |") && !strings.Contains(doc, "` / `"+op+"` |") && !strings.Contains(doc, "\n| `"+op+"` / ") {
			t.Errorf("docs/sessions.md has no row for the %s op", op)
		}
	}
}
