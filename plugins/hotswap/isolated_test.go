package hotswap_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/internal/plugintest"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/pluginhost"
	"github.com/scopenative/scope/plugins/hotswap"
)

// TestMain serves plugin host children: isolated instances re-execute this test binary
// with pluginhost.DefaultChildArgs.
func TestMain(m *testing.M) {
	child := pluginhost.DefaultChildArgs()
	if len(os.Args) > len(child) && slices.Equal(os.Args[1:1+len(child)], child) {
		os.Exit(pluginhost.ServeChild(context.Background(), os.Args[1+len(child):]))
	}
	os.Exit(m.Run())
}

// endless yields 2x2 frames until cancelled.
type endless struct{}

func (endless) Format() frame.Format {
	return frame.Format{Width: 2, Height: 2, Channels: 3, Elem: frame.U8}
}
func (endless) Close() error { return nil }
func (endless) Read(ctx context.Context, dst *frame.Frame) error {
	return ctx.Err()
}

// Reloading a plugin whose node runs isolated swaps in an isolated instance of the new
// build (it used to panic on the isolated instance's nil library).
func TestReloadKeepsAnIsolatedNodeIsolated(t *testing.T) {
	dir := t.TempDir()
	lib := plugintest.Example(t, dir, "invert")
	old, err := pluginhost.Start(lib, "invert", loader.ModeVideo, nil, -1, pluginhost.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var last byte
	e, err := engine.New(engine.Config{Stages: []engine.Instance{old}, Source: endless{}, FPS: 200, Live: true,
		OnFrame: func(f *frame.Frame) { mu.Lock(); last = f.Data[0]; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := e.Run(ctx); done <- err }()
	defer func() {
		cancel()
		<-done
		for _, in := range e.Instances() {
			in.Close()
		}
	}()
	newBuild := plugintest.Example(t, filepath.Join(dir), "invert") // rebuilt in place, as a rebuild does
	sw := hotswap.New(e, loader.Options{}, func(string) {})
	defer sw.Close()
	stage := 0
	res, err := sw.Apply(context.Background(), hotswap.Request{Plugin: "invert", Library: newBuild, Stage: &stage})
	if err != nil || len(res.Swapped) != 1 {
		t.Fatalf("reload: %v, %+v", err, res)
	}
	end := time.Now().Add(10 * time.Second)
	for e.Instances()[0] == engine.Instance(old) {
		if time.Now().After(end) {
			t.Fatal("the swap never happened")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, ok := e.Instances()[0].(*pluginhost.Instance); !ok {
		t.Fatalf("after the reload stage 0 runs %T, want an isolated instance", e.Instances()[0])
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	got := last
	mu.Unlock()
	if got != 255 {
		t.Fatalf("after the reload the output starts with %d, want 255 (the zero source inverted, not passed through)", got)
	}
	if old.State() != pluginhost.StateClosed {
		t.Fatalf("the old isolated instance is %s, want closed", old.State())
	}
}
