package command_test

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/scopenative/scope/internal/plugintest"
)

// TestBenchPrintsFloorAndRatio checks that bench prints the machine's floor for the frame
// size and each stage's ratio to it, consistent with the stage's own ms/frame, and the pool
// size --threads asked for.
func TestBenchPrintsFloorAndRatio(t *testing.T) {
	dir := t.TempDir()
	plugintest.Example(t, dir, "invert")
	code, stdout, stderr := scope(t, dir, "bench", "invert", "--size", "320x240", "--frames", "5", "--warmup", "1", "--threads", "2")
	wantExit(t, "bench --threads 2", code, stderr, 0)
	if !regexp.MustCompile(`pool of 2 workers`).MatchString(stdout) {
		t.Errorf("bench does not report the pool of 2 workers:\n%s", stdout)
	}
	floor := regexp.MustCompile(`floor\s+([0-9.]+) ms/frame\s+\(one 320x240 RGB u8 memcpy`).FindStringSubmatch(stdout)
	stage := regexp.MustCompile(`invert\s+([0-9.]+) ms/frame mean\s+[0-9.]+ ms p99\s+([0-9.]+)x floor`).FindStringSubmatch(stdout)
	if floor == nil || stage == nil {
		t.Fatalf("bench output lacks the floor or the ratio:\n%s", stdout)
	}
	f, _ := strconv.ParseFloat(floor[1], 64)
	m, _ := strconv.ParseFloat(stage[1], 64)
	r, _ := strconv.ParseFloat(stage[2], 64)
	if f <= 0 || m <= 0 {
		t.Fatalf("floor %v ms, stage %v ms: both must be positive\n%s", f, m, stdout)
	}
	// The printed values are rounded to 0.001 ms: allow that much.
	if lo, hi := (m-0.0005)/(f+0.0005), (m+0.0005)/max(f-0.0005, 1e-9); r < lo*0.99 || r > hi*1.01 {
		t.Errorf("ratio %v is not stage %v / floor %v\n%s", r, m, f, stdout)
	}
}

// TestBenchRefusesBadThreads checks --threads outside 1..256 is a usage error naming the flag.
func TestBenchRefusesBadThreads(t *testing.T) {
	dir := t.TempDir()
	plugintest.BuildC(t, filepath.Join(dir, "invert.so"), []string{filepath.Join(plugintest.Root(t), "examples", "c", "invert", "invert.c")})
	for _, n := range []string{"0", "-3", "100000"} {
		code, _, stderr := scope(t, dir, "bench", "invert", "--threads", n, "--frames", "1")
		wantExit(t, "bench --threads "+n, code, stderr, 2, "--threads must be 1..256")
	}
}
