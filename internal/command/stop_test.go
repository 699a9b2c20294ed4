package command_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scopenative/scope/internal/command"
	"github.com/scopenative/scope/internal/plugintest"
	scopesession "github.com/scopenative/scope/session"
)

// cliChildEnv makes the test binary run the CLI on its arguments and exit, so tests can run
// `scope` as a separate process (for signals, hangs and crashes) without building it.
const cliChildEnv = "SCOPE_TEST_AS_CLI"

func init() {
	if os.Getenv(cliChildEnv) == "1" {
		os.Exit(command.Main(context.Background(), os.Args, command.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
	}
}

// scopeProcess returns `scope args...` as a child process of the test binary, with its own
// data folder and run (session) folder run.
func scopeProcess(t *testing.T, run string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), cliChildEnv+"=1", "XDG_RUNTIME_DIR="+run, "SCOPE_HOME="+t.TempDir(), "SCOPE_PLUGIN_PATH=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return cmd, &out, &errb
}

// exitCode is the exit status of a finished child, -1 if a signal killed it.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("child: %v", err)
	return 0
}

// testPlugin builds the loader's test plugin (pipelines copy and noop) with -D defines.
func testPlugin(t *testing.T, defines ...string) string {
	t.Helper()
	src := filepath.Join(plugintest.Root(t), "loader", "testdata", "testplugin.c")
	return plugintest.BuildC(t, filepath.Join(t.TempDir(), "testplugin.so"), []string{src}, defines...)
}

// TestStopGraceEndsHungRun: a stop (SIGTERM, SIGINT or the session's stop op) to a run whose
// plugin never returns from a call ends the process after the grace period, non-zero, naming
// the plugin, pipeline, call and frame.
func TestStopGraceEndsHungRun(t *testing.T) {
	lib := testPlugin(t, "HANG_CALL_AT=3")
	for _, c := range []struct {
		name string
		stop func(t *testing.T, cmd *exec.Cmd, run string) error
	}{
		{"SIGTERM", func(t *testing.T, cmd *exec.Cmd, _ string) error { return cmd.Process.Signal(syscall.SIGTERM) }},
		{"SIGINT", func(t *testing.T, cmd *exec.Cmd, _ string) error { return cmd.Process.Signal(syscall.SIGINT) }},
		{"stop op", func(t *testing.T, _ *exec.Cmd, run string) error {
			dir, err := scopesession.DefaultDir(func(k string) string { return map[string]string{"XDG_RUNTIME_DIR": run}[k] })
			if err != nil {
				return err
			}
			list, err := dir.List()
			if err != nil || len(list) != 1 {
				return fmt.Errorf("sessions %v, %v: want the one run", list, err)
			}
			c, err := scopesession.DialInfo(list[0])
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return c.Stop(ctx)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			run := t.TempDir()
			marker := filepath.Join(t.TempDir(), "hung")
			cmd, _, stderr := scopeProcess(t, run, "run", "--plugin", lib, "copy", "--size", "16x16", "--stop-grace", "1s")
			cmd.Env = append(cmd.Env, "SCOPE_TEST_HANG_MARKER="+marker)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer cmd.Process.Kill()
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if _, err := os.Stat(marker); err == nil {
					break
				}
				select {
				case err := <-exited:
					t.Fatalf("the run ended before its plugin hung (%v):\n%s", err, stderr)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("the plugin never reached its hanging call:\n%s", stderr)
				}
			}
			sent := time.Now()
			if err := c.stop(t, cmd, run); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var err error
			select {
			case err = <-exited:
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10s after %s with --stop-grace 1s:\n%s", c.name, stderr)
			}
			took := time.Since(sent)
			if code := exitCode(t, err); code != command.ExitFailure {
				t.Errorf("exit %d, want %d", code, command.ExitFailure)
			}
			if took < time.Second || took > 4*time.Second {
				t.Errorf("exited %v after %s, want the 1s grace (plus a little)", took, c.name)
			}
			want := "error: the run did not stop within 1s of the stop request: call of pipeline copy (" + lib + ") on frame 3 has not returned after "
			if !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "exiting without finishing the output") {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		})
	}
}

// TestStopGraceIsChecked: a grace period that is not positive is a usage error.
func TestStopGraceIsChecked(t *testing.T) {
	code, _, stderr := scope(t, "", "run", "--plugin", testPlugin(t), "copy", "--stop-grace", "0s")
	if code != command.ExitUsage || !strings.Contains(stderr, "--stop-grace 0s: give a positive duration") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// TestCrashNamesPlugin: a segfault in a plugin's call prints, before Go's crash dump, one line
// naming the plugin file, the pipeline, the call and the frame; the exit status is non-zero.
func TestCrashNamesPlugin(t *testing.T) {
	lib := testPlugin(t, "SEGV_CALL_AT=3")
	cmd, _, stderr := scopeProcess(t, t.TempDir(), "run", "--plugin", lib, "copy", "--size", "16x16", "--frames", "10")
	code := exitCode(t, cmd.Run())
	if code == 0 {
		t.Fatalf("a run whose plugin segfaults exited 0:\n%s", stderr)
	}
	errs := stderr.String()
	want := "scope: plugin crashed: " + lib + ", pipeline copy, in call, frame 3\n"
	at, dump := strings.Index(errs, want), strings.Index(errs, "SIGSEGV")
	if at < 0 || dump < 0 || at > dump {
		t.Fatalf("stderr lacks %q before the SIGSEGV dump:\n%s", want, errs)
	}
	if n := strings.Count(errs, "scope: plugin crashed:"); n != 1 {
		t.Errorf("%d crash lines, want 1", n)
	}
}
