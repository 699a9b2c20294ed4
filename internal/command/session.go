package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/audio"
	"github.com/scopenative/scope/engine"
	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/media"
	scopesession "github.com/scopenative/scope/session"
	sessionhost "github.com/scopenative/scope/session/host"
)

// previewBinary is the name of the preview executable (cmd/scope-preview).
const previewBinary = "scope-preview"

// sessionFlags are the flags `scope run` adds for sessions, the preview and audio.
func sessionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "preview", Usage: "show the output in a preview window (scope-preview); closing it ends the run"},
		&cli.StringFlag{Name: "filter", Value: "linear", Usage: "preview scaling filter: linear or nearest"},
		&cli.StringFlag{Name: "audio", Usage: "write the audio of pipelines that produce it to this WAV `FILE` (48 kHz stereo, 16-bit)"},
	}
}

// liveFlags are the flags that decide how live a run is, read once from the command line:
// the rest of the run asks these instead of the flags.
type liveFlags struct {
	preview bool    // --preview: a window, file sources played in real time
	fps     float64 // --fps: roots paced to this rate (0: as fast as the graph runs)
	filter  string  // --filter: the preview's scaling filter
}

// readLiveFlags reads --preview, --fps and --filter.
func readLiveFlags(cmd *cli.Command) liveFlags {
	return liveFlags{preview: cmd.Bool("preview"), fps: cmd.Float("fps"), filter: cmd.String("filter")}
}

// live reports whether the engine keeps the newest frames (a preview or a paced run) rather
// than holding producers back.
func (l liveFlags) live() bool { return l.preview || l.fps > 0 }

// sessionRun is the session side of one `scope run`: the control endpoint and frame ring, the
// audio path (converter, WAV file, ring) and the preview child.
type sessionRun struct {
	a       *app
	flags   liveFlags
	host    *sessionhost.Host
	conv    audio.Converter
	wav     *audio.WAVWriter
	wavPath string
	pubErr  bool // a publish error was reported

	// Audio pacing (interactive runs without --fps): wait so produced audio stays ~real time.
	pace      bool
	audioMu   sync.Mutex // audioSecs: written by a pipeline's worker, read by the sink's
	audioSecs float64
	started   time.Time

	sigCtx      context.Context                  // ends on SIGINT/SIGTERM
	dropTo      atomic.Pointer[sessionhost.Host] // counts source drops (from the source's goroutine)
	preview     *exec.Cmd
	previewDone chan error
}

// newSessionRun reads the session flags. It opens the WAV file, if any.
// Cancelling ctx (a signal) also closes the preview; a run that ends by itself leaves it open.
func (a *app) newSessionRun(ctx context.Context, cmd *cli.Command, stages []engine.Instance) (*sessionRun, error) {
	s := &sessionRun{a: a, flags: readLiveFlags(cmd), sigCtx: ctx}
	if f := s.flags.filter; f != "linear" && f != "nearest" {
		return nil, usagef("--filter %q: use linear or nearest", f)
	}
	audible := false
	for _, in := range stages {
		audible = audible || in.Pipeline().ProducesAudio
	}
	if p := cmd.String("audio"); p != "" {
		if !audible {
			return nil, usagef("--audio %s: no pipeline of the chain produces audio", p)
		}
		w, err := audio.CreateWAV(p, audio.Rate, audio.Channels)
		if err != nil {
			return nil, err
		}
		s.wav, s.wavPath = w, p
	}
	s.pace = audible && s.flags.preview && s.flags.fps == 0
	return s, nil
}

// live plays the source in real time for a previewed or served run: a pipeline slower than the source
// drops frames at the source side (counted in the session's stats) instead of queueing them.
// Headless runs read every frame, so files are processed whole.
func (s *sessionRun) live(src media.Source) media.Source {
	if src == nil || !s.flags.preview && s.a.hosted == nil {
		return src
	}
	fps := s.flags.fps
	if fps == 0 {
		fps = 30
	}
	return media.NewLive(src, fps, 2, func(uint64) {
		if h := s.dropTo.Load(); h != nil {
			h.AddDropped(1)
		}
	})
}

// onFrame publishes an output frame to the session (engine goroutine).
func (s *sessionRun) onFrame(f *frame.Frame) {
	if s.host != nil {
		if err := s.host.Publish(f); err != nil && !s.pubErr {
			s.pubErr = true
			fmt.Fprintf(s.a.io.Err, "warning: session %s: %v (the preview will not update)\n", s.host.Info().ID, err)
		}
	}
	if s.pace {
		if s.started.IsZero() {
			s.started = time.Now()
		}
		s.audioMu.Lock()
		secs := s.audioSecs
		s.audioMu.Unlock()
		if ahead := time.Duration(secs*float64(time.Second)) - time.Since(s.started) - 100*time.Millisecond; ahead > 0 {
			time.Sleep(ahead)
		}
	}
}

// onAudio converts a stage's audio to 48 kHz stereo and sends it to the WAV file and the
// session's audio ring (engine goroutine).
func (s *sessionRun) onAudio(_ int, a *loader.Audio) {
	pcm := s.conv.Convert(a.Samples[:a.Frames*a.Channels], a.Channels, a.SampleRate)
	s.audioMu.Lock()
	s.audioSecs += float64(len(pcm)/audio.Channels) / audio.Rate
	s.audioMu.Unlock()
	if s.wav != nil {
		if err := s.wav.Write(pcm); err != nil {
			fmt.Fprintf(s.a.io.Err, "warning: %v (audio file closed)\n", err)
			s.wav.Close()
			s.wav = nil
		}
	}
	if s.host != nil {
		s.host.PublishAudio(pcm)
	}
}

// start hosts the session (a failure to do so is a warning: the run goes on headless) and,
// with --preview, starts scope-preview attached to it; stop ends the run.
// nodes makes what the session's edit ops add.
func (s *sessionRun) start(eng *engine.Engine, stop context.CancelFunc, nodes sessionhost.NodeMaker) error {
	dir, err := scopesession.DefaultDir(s.a.io.Env)
	if err == nil {
		s.host, err = sessionhost.Start(sessionhost.Config{Dir: dir, Engine: eng, Stop: stop, Nodes: nodes})
	}
	if err != nil {
		if s.flags.preview {
			return fmt.Errorf("--preview needs a session: %w", err)
		}
		fmt.Fprintf(s.a.io.Err, "warning: no session for this run: %v\n", err)
		return nil
	}
	s.dropTo.Store(s.host)
	if s.a.hosted != nil {
		s.a.hosted(s.host)
	}
	if !s.flags.preview {
		return nil
	}
	exe, err := s.a.previewExe()
	if err != nil {
		return err
	}
	s.preview = exec.Command(exe, "--session", s.host.Info().ID, "--owned", "--filter", s.flags.filter)
	out := &xgbFilter{w: s.a.io.Err}
	s.preview.Stdout, s.preview.Stderr = out, out
	s.preview.Env = previewEnv(s.a.io.Env)
	if err := s.preview.Start(); err != nil {
		return fmt.Errorf("start %s: %w", exe, err)
	}
	s.previewDone = make(chan error, 1)
	go func() {
		err := s.preview.Wait()
		out.flush()
		s.previewDone <- err
		if err == nil {
			stop() // the user closed the window: the run ends
			return
		}
		fmt.Fprintf(s.a.io.Err, "warning: the preview exited (%v); the session %s goes on (reattach with 'scope preview %s')\n", err, s.host.Info().ID, s.host.Info().ID)
	}()
	return nil
}

// finish ends the session and closes the WAV file; with a preview still open it waits for the
// user to close it (the preview says the session ended).
func (s *sessionRun) finish() error {
	var err error
	s.dropTo.Store(nil)
	if s.host != nil {
		err = s.host.Close()
		s.host = nil
	}
	if s.wav != nil {
		if e := s.wav.Close(); e != nil && err == nil {
			err = e
		}
		s.wav = nil
	}
	if s.previewDone != nil {
		select {
		case <-s.previewDone:
		default:
			if s.sigCtx.Err() != nil {
				s.preview.Process.Signal(syscall.SIGTERM) // interrupted: the window goes too
			} else {
				fmt.Fprintln(s.a.io.Err, "the run ended; close the preview window to exit")
			}
			<-s.previewDone
		}
		s.previewDone = nil
	}
	return err
}

// previewEnv is the environment of the preview child: the process's, with the variables the
// session lookup depends on taken from env (tests pass their own).
func previewEnv(env func(string) string) []string {
	out := os.Environ()
	for _, k := range []string{"XDG_RUNTIME_DIR", "DISPLAY"} {
		if v := env(k); v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// errNoDisplay is the error of a preview asked for where there is no X display to open a
// window on (Ebitengine would panic in its init).
var errNoDisplay = errors.New("no display: set DISPLAY (or run under Xvfb)")

// previewExe returns the scope-preview executable after checking that it has a display.
func (a *app) previewExe() (string, error) {
	if a.io.Env("DISPLAY") == "" {
		return "", errNoDisplay
	}
	return findPreview()
}

// xgbFilter passes the preview's output on without the lines the X11 library logs on every
// connection ("XGB: conn.go:...: Could not get authority info: ... .Xauthority"), which say
// nothing wrong where there is no X authority file (Xvfb).
type xgbFilter struct {
	w       io.Writer
	partial []byte // the last line, until its newline comes
}

// Write writes the complete lines of p that are not XGB's and keeps a trailing partial line.
func (f *xgbFilter) Write(p []byte) (int, error) {
	f.partial = append(f.partial, p...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := f.partial[:i+1]
		f.partial = f.partial[i+1:]
		if !bytes.HasPrefix(line, []byte("XGB: ")) {
			if _, err := f.w.Write(line); err != nil {
				return len(p), err
			}
		}
	}
}

// flush writes a last line that had no newline.
func (f *xgbFilter) flush() {
	if len(f.partial) > 0 && !bytes.HasPrefix(f.partial, []byte("XGB: ")) {
		f.w.Write(f.partial)
	}
	f.partial = nil
}

// findPreview returns the scope-preview executable: beside this executable, else on PATH.
func findPreview() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), previewBinary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(previewBinary); err == nil {
		return p, nil
	}
	return "", errors.New("scope-preview not found: build it with make build")
}

func (a *app) sessionsCommand() *cli.Command {
	return &cli.Command{
		Name:  "sessions",
		Usage: "list running sessions (scope run ...) with their ids",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			dir, err := scopesession.DefaultDir(a.io.Env)
			if err != nil {
				return err
			}
			list, err := dir.List()
			if err != nil {
				return err
			}
			if cmd.Bool("json") {
				if list == nil {
					list = []scopesession.Info{}
				}
				b, _ := json.MarshalIndent(list, "", "  ")
				fmt.Fprintln(a.io.Out, string(b))
				return nil
			}
			if len(list) == 0 {
				fmt.Fprintln(a.io.Out, "no running sessions")
				return nil
			}
			tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPID\tSTARTED\tCHAIN")
			for _, s := range list {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", s.ID, s.PID, s.Started.Local().Format("15:04:05"), strings.Join(s.Chain, ","))
			}
			return tw.Flush()
		},
	}
}

func (a *app) previewCommand() *cli.Command {
	return &cli.Command{
		Name:      "preview",
		Usage:     "open a preview window on a running session (closing it leaves the session running)",
		ArgsUsage: "[SESSION | URL]",
		Description: "Attaches scope-preview to the only running session, or to the one with this id (see\n" +
			"'scope sessions'). The window shows the output, parameter controls for every pipeline of\n" +
			"the chain and live stats; closing it detaches without stopping the session.\n\n" +
			"With a URL it attaches to a session of a `scope serve` on another machine (see docs/http-api.md):\n" +
			"  $ scope preview http://gpu-box:8000 --token-file ~/scope-token\n" +
			"  $ scope preview http://gpu-box:8000/api/v1/sessions/ab12cd34 --quality 60",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "filter", Value: "linear", Usage: "scaling filter: linear or nearest"},
		}, remotePreviewFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() > 1 {
				return usagef("preview takes at most one argument, a session id or a server URL")
			}
			if isServerURL(cmd.Args().First()) {
				return a.previewRemote(ctx, cmd)
			}
			dir, err := scopesession.DefaultDir(a.io.Env)
			if err != nil {
				return err
			}
			info, err := dir.Find(cmd.Args().First())
			if err != nil {
				return usageError{err}
			}
			exe, err := a.previewExe()
			if err != nil {
				return err
			}
			c := exec.CommandContext(ctx, exe, "--session", info.ID, "--filter", cmd.String("filter"))
			c.Stdout, c.Stderr, c.Env = &xgbFilter{w: a.io.Out}, &xgbFilter{w: a.io.Err}, previewEnv(a.io.Env)
			err = c.Run()
			c.Stdout.(*xgbFilter).flush()
			c.Stderr.(*xgbFilter).flush()
			if err != nil {
				return fmt.Errorf("%s: %w", previewBinary, err)
			}
			return nil
		},
	}
}
