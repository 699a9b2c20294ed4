package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// latencyCase is one language's invert example and how to make it output a constant k.
type latencyCase struct {
	lang, dir, id, file string
	line                string             // the formula line, replaced by the first edit
	constant            func(k int) string // the line that outputs k instead
	needs               string             // a tool the build needs
}

// TestReloadLatency measures `scope run --watch` from saving a file to the first frame of
// the new build in the session (SCOPE_LONG_TESTS=1; scripts/bench-reload.sh runs it), for the
// C, C++, Rust and Go invert examples, and logs the figures with the load average. It
// asserts only that every edit reached the frames.
func TestReloadLatency(t *testing.T) {
	if os.Getenv("SCOPE_LONG_TESTS") == "" {
		t.Skip("a measurement: set SCOPE_LONG_TESTS=1 to run it")
	}
	edits := 5
	cases := []latencyCase{
		{lang: "C", dir: "c/invert", id: "invert", file: "invert.c", needs: "cc",
			line:     "table[v] = (uint8_t)(r > 255 ? 255 : r);",
			constant: func(k int) string { return fmt.Sprintf("table[v] = %d; (void)r; /*bench*/", k) }},
		{lang: "C++", dir: "cpp/invert", id: "invert-cpp", file: "invert.cpp", needs: "c++",
			line:     "table_[v] = static_cast<uint8_t>(std::fmin(std::floor(x + 0.5), 255.0));",
			constant: func(k int) string { return fmt.Sprintf("table_[v] = %d; (void)x; /*bench*/", k) }},
		{lang: "Rust", dir: "rust/invert", id: "invert-rust", file: "src/lib.rs", needs: "cargo",
			line:     "(v * (1.0 - i) + (255.0 - v) * i + 0.5).floor() as u8",
			constant: func(k int) string { return fmt.Sprintf("{ let _ = (v, i); %d } /*bench*/", k) }},
		{lang: "Go", dir: "go/invert", id: "invert-go", file: "main.go", needs: "go",
			line:     "p.table[v] = byte(math.Min(math.Floor(float64(f*(1-i))+float64((255-f)*i)+0.5), 255))",
			constant: func(k int) string { return fmt.Sprintf("p.table[v] = %d; _ = f /*bench*/", k) }},
	}
	if only := os.Getenv("SCOPE_BENCH_LANGS"); only != "" {
		cases = slicesFilter(cases, func(c latencyCase) bool { return strings.Contains(","+only+",", ","+c.lang+",") })
	}
	var report []string
	for _, c := range cases {
		if _, err := exec.LookPath(c.needs); err != nil {
			report = append(report, fmt.Sprintf("%-4s skipped: %s is not installed", c.lang, c.needs))
			continue
		}
		t.Run(c.lang, func(t *testing.T) {
			h := newHarness(t)
			pkg := filepath.Join(h.tmp, "pkg")
			if out, err := exec.Command("cp", "-r", filepath.Join(repoRoot(), "examples", c.dir), pkg).CombinedOutput(); err != nil {
				t.Fatalf("copy: %v %s", err, out)
			}
			if c.lang == "Rust" { // the example points at the SDK relative to its place in the repository
				h.edit(filepath.Join(pkg, "Cargo.toml"), `path = "../../../sdk/rust"`, fmt.Sprintf("path = %q", filepath.Join(repoRoot(), "sdk", "rust")))
			}
			os.Remove(filepath.Join(pkg, "scope-plugin.toml"))
			h.write(filepath.Join(pkg, "scope-plugin.toml"), fmt.Sprintf("name = \"bench-%s\"\nversion = \"0.1.0\"\n", c.id))
			h.mustScope("plugin", "install", pkg)
			probe, runErr := h.startRun(3, "run", c.id, "--watch", "--input", "testsrc", "--size", "32x18", "--fps", "30", "--output", "null", "--quiet")
			src := filepath.Join(pkg, c.file)
			cur := c.line
			var took []time.Duration
			for e := 0; e <= edits; e++ { // edit 0 warms the build tree
				k := 20 + 10*e
				next := c.constant(k)
				h.edit(src, cur, next)
				cur = next
				start := time.Now()
				for {
					if px, constant := probe.frame(filepath.Join(h.tmp, "f.png")); constant && px[0] == uint8(k) {
						break
					}
					if time.Since(start) > 2*time.Minute {
						t.Fatalf("edit %d never reached the frames:\n%s", e, runErr.String())
					}
					time.Sleep(5 * time.Millisecond)
				}
				if e > 0 {
					took = append(took, time.Since(start))
				}
				time.Sleep(2 * time.Second) // the full validation after the swap, then a quiet session
			}
			sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
			load, _ := os.ReadFile("/proc/loadavg")
			line := fmt.Sprintf("%-4s save to new frames: min %.2f s, median %.2f s, max %.2f s over %d edits (loadavg %s)",
				c.lang, took[0].Seconds(), took[len(took)/2].Seconds(), took[len(took)-1].Seconds(), len(took), strings.TrimSpace(string(load)))
			report = append(report, line)
			t.Log(line)
		})
	}
	t.Log("\n" + strings.Join(report, "\n"))
}

func slicesFilter[T any](in []T, keep func(T) bool) []T {
	var out []T
	for _, v := range in {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}
