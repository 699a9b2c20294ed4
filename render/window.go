//go:build cgo

package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/scopenative/scope/audio/player"
	"github.com/scopenative/scope/session"
)

// Options configure the preview window.
type Options struct {
	// Session is the session to attach to (Find's rules: "" = the only one).
	Session string
	// Owned is set when `scope run --preview` started the window: closing it ends the run.
	Owned bool
	// Filter scales the frame: "linear" (default) or "nearest".
	Filter string
	// Width and Height are the initial window size in logical pixels (0 = 1280x720).
	Width, Height int
	// NullAudio plays into miniaudio's null backend; NoAudio plays nothing.
	NullAudio, NoAudio bool
	// Log receives warnings (nil = stderr).
	Log func(format string, args ...any)
	// Close, when closed, closes the window as if the user had (scope-preview closes it on
	// SIGINT/SIGTERM, so a polite kill is a normal close, not a crash).
	Close <-chan struct{}
	// Report, when > 0, measures for this long after the first frame, prints how many
	// session frames were shown per second and the draw rate, and closes the window (the
	// benchmark's hook).
	Report time.Duration
	// Out receives the report (nil = stdout).
	Out io.Writer
	// StatusLog, when set, receives every status line the window shows, one a line (the key
	// test reads what the user saw, e.g. the path S saved to).
	StatusLog io.Writer
	// URL, when set, attaches to a session of the `scope serve` at this address (http[s]://
	// HOST:PORT) instead of one on this machine; Session then picks among its sessions.
	URL string
	// Token is the server's bearer token (scope serve's token file), if it needs one.
	Token string
	// Quality is the JPEG quality of network frames (1..100, 0 = the server's default);
	// Lossless asks for PNG frames instead.
	Quality  int
	Lossless bool
}

// Run opens the window and returns when it is closed (window close, Esc or Q).
func Run(opts Options) error {
	if opts.Log == nil {
		opts.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "scope-preview: "+format+"\n", args...) }
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		info session.Info
		src  frameSource
		rem  *remote
		net  *network
	)
	if opts.URL != "" {
		n, err := attachNetwork(ctx, opts)
		if err != nil {
			return err
		}
		defer n.frames.Close()
		info, src, rem, net = n.info, n.frames, n.remote, n
	} else {
		var err error
		if info, err = session.Find(opts.Session); err != nil {
			return err
		}
		ring, err := session.OpenReader(info.SHM)
		if err != nil {
			return fmt.Errorf("attach to session %s: %w", info.ID, err)
		}
		defer ring.Close()
		src, rem = ring, newRemote(info)
	}
	fontSrc, err := text.NewGoTextFaceSource(bytes.NewReader(goregular.TTF))
	if err != nil {
		return fmt.Errorf("load font: %w", err)
	}

	g := &game{opts: opts, info: info, rem: rem, feed: &frameFeed{ring: src}, font: fontSrc, net: net,
		linear: opts.Filter != "nearest", local: map[pkey]localValue{}, started: time.Now()}
	if !opts.NoAudio {
		// The device opens when the session first publishes audio (most chains have none).
		failed := false
		g.feed.audio = func(pcm []float32) {
			p := g.player.Load()
			if p == nil && !failed {
				var err error
				if p, err = player.New(player.Options{Null: opts.NullAudio}); err != nil {
					opts.Log("no audio: %v", err)
					failed = true
					return
				}
				g.player.Store(p)
			}
			if p != nil {
				p.Push(pcm)
			}
		}
		defer func() {
			if p := g.player.Load(); p != nil {
				p.Close()
			}
		}()
	}
	switch {
	case opts.Owned:
		g.status("session %s - closing this window ends the run", info.ID)
	case net != nil:
		g.status("attached to session %s at %s - closing this window leaves it running", info.ID, opts.URL)
	default:
		g.status("attached to session %s - closing this window leaves it running", info.ID)
	}
	go g.rem.run(ctx, 250*time.Millisecond)
	go g.feed.run(ctx)

	w, h := opts.Width, opts.Height
	if w <= 0 || h <= 0 {
		w, h = 1280, 720
	}
	ebiten.SetWindowSize(w, h)
	ebiten.SetWindowTitle(title(info, ""))
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetScreenClearedEveryFrame(false) // Draw fills the whole screen itself
	err = ebiten.RunGameWithOptions(g, &ebiten.RunGameOptions{InitUnfocused: false})
	if errors.Is(err, ebiten.Termination) {
		return nil
	}
	return err
}

// title names the chain (and the session) for the window title.
func title(info session.Info, suffix string) string {
	t := "Scope - " + strings.Join(info.Chain, " -> ") + " [session " + info.ID + "]"
	if suffix != "" {
		t += " - " + suffix
	}
	return t
}

// localValue is a value the user just set, shown until the session reports it (or 1.5 s).
type localValue struct {
	text  string
	until time.Time
}

// game is the Ebitengine game: state, input, drawing.
type game struct {
	opts   Options
	info   session.Info
	rem    *remote
	feed   *frameFeed
	net    *network                      // a session on another machine (nil: on this one)
	player atomic.Pointer[player.Player] // set once audio arrives
	font   *text.GoTextFaceSource

	scale  float64 // device scale factor
	w, h   int     // screen size in device pixels
	img    *ebiten.Image
	frameW int
	frameH int
	frameN uint64
	pix    []byte // the displayed frame as RGBA (for S); the feed reuses it at the next take

	stateGen  uint64 // generation of state (remote.gen)
	localGen  int    // counts setValue calls
	lastPanel panelSig
	lastArea  areaSig
	overlay   *ebiten.Image // the stats overlay, re-rendered when its text changes
	ovLines   []string
	ovAt      time.Time // when ovLines were last computed
	ovGen     int       // counts overlay re-renders
	ovW, ovH  int       // the overlay's size in device pixels
	ovScale   float64

	state  session.InfoResult
	have   bool
	ended  bool
	linear bool
	hide   bool
	stage  int // stage R reloads (the last one touched)

	widgets []widget
	scroll  float64
	drag    *dragState
	focus   *pkey // text box being edited
	edit    string
	open    *pkey // enum dropdown
	local   map[pkey]localValue

	msg      string
	msgUntil time.Time

	started   time.Time
	shown     []time.Time // when recent frames were displayed (preview fps)
	lastTitle string

	measureFrom  time.Time // Report: when the first frame was shown
	measureCount int
	measureFirst uint64
	draws        int
}

func (g *game) status(format string, args ...any) {
	g.msg = fmt.Sprintf(format, args...)
	g.msgUntil = time.Now().Add(6 * time.Second)
	if g.opts.StatusLog != nil {
		fmt.Fprintln(g.opts.StatusLog, g.msg)
	}
}

func (g *game) px(v float64) float64 { return v * g.scale }

// Layout reports the screen in device pixels, so everything is sharp on HiDPI displays.
func (g *game) Layout(w, h int) (int, int) {
	fw, fh := g.LayoutF(float64(w), float64(h))
	return int(fw), int(fh)
}

// LayoutF implements ebiten.LayoutFer.
func (g *game) LayoutF(w, h float64) (float64, float64) {
	s := ebiten.Monitor().DeviceScaleFactor()
	if s <= 0 {
		s = 1
	}
	g.scale = s
	g.w, g.h = int(w*s), int(h*s)
	return float64(g.w), float64(g.h)
}

func (g *game) panelWidth() float64 {
	if g.hide {
		return 0
	}
	return g.px(340)
}

// Update handles input and takes the newest frame and state.
func (g *game) Update() error {
	select {
	case <-g.opts.Close:
		return ebiten.Termination
	default:
	}
	if g.scale == 0 {
		return nil
	}
	state, gen, have, ended, msgs := g.rem.snapshot()
	if have {
		g.state, g.stateGen, g.have = state, gen, true
	}
	if ended || g.feed.isClosed() {
		if !g.ended {
			g.status("the session ended; showing its last frame")
			if p := g.player.Load(); p != nil {
				p.SetPaused(true)
			}
		}
		g.ended = true
	}
	for _, m := range msgs {
		g.status("%s", m)
	}
	if p := g.player.Load(); p != nil && !g.ended {
		p.SetPaused(g.state.Paused)
	}
	if t := title(g.info, g.titleSuffix()); t != g.lastTitle {
		ebiten.SetWindowTitle(t)
		g.lastTitle = t
	}
	if g.opts.Report > 0 && !g.measureFrom.IsZero() {
		if el := time.Since(g.measureFrom); el >= g.opts.Report {
			out := g.opts.Out
			if out == nil {
				out = os.Stdout
			}
			fmt.Fprintf(out, "preview: %d of %d session frames shown in %.2fs: %.1f fps shown, %.1f draws/s, frame %dx%d\n",
				g.measureCount, g.frameN-g.measureFirst, el.Seconds(), float64(g.measureCount)/el.Seconds(), float64(g.draws)/el.Seconds(), g.frameW, g.frameH)
			if g.net != nil {
				fmt.Fprintln(out, g.net.report())
			}
			return ebiten.Termination
		}
	}
	g.layout()
	if g.focus != nil {
		return g.typeText()
	}
	if err := g.keys(); err != nil {
		return err
	}
	g.mouse()
	return nil
}

func (g *game) titleSuffix() string {
	switch {
	case g.ended:
		return "session ended"
	case g.state.Paused:
		return "paused"
	}
	return ""
}

// keys handles the shortcuts.
func (g *game) keys() error {
	just := inpututil.IsKeyJustPressed
	switch {
	case just(ebiten.KeyEscape), just(ebiten.KeyQ):
		if g.open != nil {
			g.open = nil
			return nil
		}
		return ebiten.Termination
	case just(ebiten.KeySpace):
		if g.ended {
			return nil
		}
		if g.state.Paused {
			g.rem.do(func(ctx context.Context, c control) error { return c.Call(ctx, session.OpResume, nil, nil) })
			g.status("resumed")
		} else {
			g.rem.do(func(ctx context.Context, c control) error { return c.Call(ctx, session.OpPause, nil, nil) })
			g.status("paused")
		}
	case just(ebiten.KeyF):
		ebiten.SetFullscreen(!ebiten.IsFullscreen())
	case just(ebiten.KeyH):
		g.hide = !g.hide
	case just(ebiten.KeyS):
		g.saveFrame()
	case just(ebiten.KeyR):
		g.reload()
	case just(ebiten.KeyL):
		g.linear = !g.linear
	}
	return nil
}

// saveFrame writes the displayed frame as PNG in the working directory.
func (g *game) saveFrame() {
	if g.img == nil {
		g.status("no frame to save yet")
		return
	}
	f := session.Frame{Number: g.frameN, Width: g.frameW, Height: g.frameH, Channels: 4, Pix: g.pix}
	name := fmt.Sprintf("scope-%s-%06d.png", g.info.ID, g.frameN)
	path, err := filepath.Abs(name)
	if err == nil {
		err = session.WritePNG(path, &f)
	}
	if err != nil {
		g.status("save failed: %v", err)
		return
	}
	g.status("saved %s", path)
}

// reload asks the session to reload the plugin of the selected stage.
func (g *game) reload() {
	if g.ended || !g.have || g.stage >= len(g.state.Stages) {
		return
	}
	st := g.state.Stages[g.stage]
	stage, plugin, id := st.Index, st.Plugin, st.Pipeline.ID
	g.status("reloading %s (a linked plugin is rebuilt first)...", id)
	g.rem.do(func(ctx context.Context, c control) error {
		var res session.ReloadResult
		if err := c.Call(ctx, session.OpReload, session.ReloadArgs{Stage: stage, Plugin: plugin}, &res); err != nil {
			return err
		}
		g.rem.message("%s", reloadStatus(id, res))
		return nil
	})
}

// reloadStatus is the status line after R: the session's own account of the reload (was it
// rebuilt or reloaded as it is on disk), or a plain one from an older session.
func reloadStatus(id string, res session.ReloadResult) string {
	if res.Message != "" {
		return res.Message
	}
	return "reloaded " + id
}

// panelSig is what the panel shows: it is redrawn only when this changes (the screen is not
// cleared between frames, so an unchanged panel stays on it).
type panelSig struct {
	stateGen            uint64
	have, ended, linear bool
	w, h                int
	scroll              float64
	stage               int
	open, focus         pkey
	opened, focused     bool
	edit                string
	blink               bool
	localGen            int
	localTick           int64
}

// areaSig is what the video area shows besides the frame itself.
type areaSig struct {
	frameN       uint64
	img          bool
	ovGen        int
	msg          string
	ended        bool
	linear, hide bool
	w, h         int
}

func (g *game) panelState() panelSig {
	p := panelSig{stateGen: g.stateGen, have: g.have, ended: g.ended, linear: g.linear, w: g.w, h: g.h,
		scroll: g.scroll, stage: g.stage, localGen: g.localGen}
	if g.open != nil {
		p.open, p.opened = *g.open, true
	}
	if g.focus != nil {
		p.focus, p.focused, p.edit = *g.focus, true, g.edit
		p.blink = time.Now().UnixMilli()/500%2 == 0
	}
	if len(g.local) > 0 { // shown values expire after 1.5 s
		p.localTick = time.Now().UnixMilli() / 100
	}
	return p
}

// upload takes the newest session frame, if a new one arrived, into the frame image.
func (g *game) upload() bool {
	pix, w, h, n, ok := g.feed.take()
	if !ok {
		return false
	}
	if g.img == nil || g.frameW != w || g.frameH != h {
		if g.img != nil {
			g.img.Deallocate()
		}
		g.img = ebiten.NewImageWithOptions(image.Rect(0, 0, w, h), &ebiten.NewImageOptions{Unmanaged: true})
		g.frameW, g.frameH = w, h
	}
	g.img.WritePixels(pix)
	g.pix = pix
	g.frameN = n
	now := time.Now()
	if g.opts.Report > 0 {
		if g.measureFrom.IsZero() {
			g.measureFrom, g.measureFirst, g.draws = now, n, 0
		} else {
			g.measureCount++
		}
	}
	g.shown = append(g.shown, now)
	for len(g.shown) > 0 && now.Sub(g.shown[0]) > time.Second {
		g.shown = g.shown[1:]
	}
	return true
}

// Draw draws what changed: the newest frame (uploaded here, once per drawn frame, not per
// Update), the overlay, and the panel only when its content changed. A frame with nothing new
// draws nothing, and Ebitengine then skips presenting it.
func (g *game) Draw(screen *ebiten.Image) {
	g.draws++
	newFrame := g.upload()
	areaW := float64(g.w) - g.panelWidth()
	g.refreshOverlay()
	msg := ""
	if time.Now().Before(g.msgUntil) {
		msg = g.msg
	}
	as := areaSig{frameN: g.frameN, img: g.img != nil, ovGen: g.ovGen, msg: msg, ended: g.ended,
		linear: g.linear, hide: g.hide, w: g.w, h: g.h}
	if newFrame || as != g.lastArea {
		g.lastArea = as
		g.drawArea(screen.SubImage(image.Rect(0, 0, int(areaW), g.h)).(*ebiten.Image), areaW, msg)
	}
	if g.hide {
		g.lastPanel = panelSig{}
		return
	}
	if ps := g.panelState(); ps != g.lastPanel {
		g.lastPanel = ps
		g.drawPanel(screen.SubImage(image.Rect(int(areaW), 0, g.w, g.h)).(*ebiten.Image))
	}
}

// drawArea draws the video area (clipped to it): bars, frame, overlay, banner, status.
func (g *game) drawArea(dst *ebiten.Image, areaW float64, msg string) {
	bg := color.RGBA{18, 18, 22, 255}
	if g.img == nil || areaW <= 0 {
		dst.Fill(bg)
		g.text(dst, "waiting for the first frame...", g.px(20), float64(g.h)/2, 14, colDim)
	} else {
		fw, fh := float64(g.frameW), float64(g.frameH)
		s := min(areaW/fw, float64(g.h)/fh)
		x0, y0 := (areaW-fw*s)/2, (float64(g.h)-fh*s)/2
		// The bars around the frame only (the frame covers the rest).
		if x0 > 0 || y0 > 0 {
			fillRect(dst, [4]float64{0, 0, areaW, math.Ceil(y0) + 1}, bg)
			fillRect(dst, [4]float64{0, math.Floor(y0+fh*s) - 1, areaW, float64(g.h)}, bg)
			fillRect(dst, [4]float64{0, 0, math.Ceil(x0) + 1, float64(g.h)}, bg)
			fillRect(dst, [4]float64{math.Floor(x0+fw*s) - 1, 0, areaW, float64(g.h)}, bg)
		}
		op := &ebiten.DrawImageOptions{}
		op.GeoM.Scale(s, s)
		op.GeoM.Translate(x0, y0)
		op.Filter = ebiten.FilterNearest
		// At scale 1 on whole pixels linear filtering gives the same pixels: skip its cost.
		if g.linear && !(s == 1 && x0 == math.Trunc(x0) && y0 == math.Trunc(y0)) {
			op.Filter = ebiten.FilterLinear
		}
		op.Blend = ebiten.BlendCopy
		dst.DrawImage(g.img, op)
	}
	if g.overlay != nil {
		op := &ebiten.DrawImageOptions{}
		op.GeoM.Translate(g.px(8), g.px(8))
		dst.DrawImage(g.overlay.SubImage(image.Rect(0, 0, g.ovW, g.ovH)).(*ebiten.Image), op)
	}
	if g.ended {
		msg := "session ended"
		w := text.Advance(msg, g.face(22))
		x, y := (areaW-w)/2, g.px(24)
		vector.DrawFilledRect(dst, float32(x-g.px(14)), float32(y-g.px(6)), float32(w+g.px(28)), float32(g.px(40)), color.RGBA{150, 30, 30, 230}, false)
		g.text(dst, msg, x, y, 22, color.White)
	}
	if msg != "" {
		y := float64(g.h) - g.px(28)
		w := text.Advance(msg, g.face(13))
		vector.DrawFilledRect(dst, float32(g.px(8)), float32(y-g.px(4)), float32(w+g.px(16)), float32(g.px(24)), color.RGBA{0, 0, 0, 200}, false)
		g.text(dst, msg, g.px(16), y, 13, color.White)
	}
}

// refreshOverlay recomputes the overlay's lines (fps, ms per pipeline, drops, resolution) at
// most 4 times a second, as often as the session's stats change, and re-renders its image
// only when the text changed.
func (g *game) refreshOverlay() {
	paused := g.state.Paused
	if g.overlay != nil && time.Since(g.ovAt) < 250*time.Millisecond && paused == (len(g.ovLines) > 0 && strings.HasPrefix(g.ovLines[len(g.ovLines)-1], "PAUSED")) && g.ovW > 0 {
		return
	}
	g.ovAt = time.Now()
	st := g.state.Stats
	lines := []string{fmt.Sprintf("%.1f fps session | %d fps preview | %dx%d", st.FPS, len(g.shown), g.frameW, g.frameH)}
	lines = append(lines, nodeStatLines(g.state.Stages, st.Sinks)...)
	lines = append(lines, fmt.Sprintf("dropped %d | late %d | errors %d | frame %d", st.Dropped, st.Late, st.Errors, g.frameN))
	if paused {
		lines = append(lines, "PAUSED (space resumes)")
	}
	if g.overlay != nil && slices.Equal(lines, g.ovLines) && g.ovScale == g.scale {
		return
	}
	g.ovLines, g.ovScale = lines, g.scale
	lh := g.px(17)
	w := 0.0
	for _, l := range lines {
		w = max(w, text.Advance(l, g.face(12)))
	}
	g.ovW, g.ovH = int(math.Ceil(w+g.px(16))), int(math.Ceil(lh*float64(len(lines))+g.px(10)))
	if g.overlay != nil {
		if b := g.overlay.Bounds(); b.Dx() < g.ovW || b.Dy() < g.ovH {
			g.overlay.Deallocate()
			g.overlay = nil
		}
	}
	if g.overlay == nil {
		g.overlay = ebiten.NewImage(g.ovW+int(g.px(64)), g.ovH+int(g.px(20)))
	}
	g.overlay.Clear()
	g.overlay.SubImage(image.Rect(0, 0, g.ovW, g.ovH)).(*ebiten.Image).Fill(color.RGBA{0, 0, 0, 160})
	for i, l := range lines {
		g.text(g.overlay, l, g.px(8), g.px(5)+lh*float64(i), 12, color.RGBA{220, 230, 220, 255})
	}
	g.ovGen++
}

var (
	colPanel  = color.RGBA{32, 33, 40, 255}
	colText   = color.RGBA{225, 225, 232, 255}
	colDim    = color.RGBA{130, 132, 145, 255}
	colAccent = color.RGBA{90, 160, 255, 255}
	colTrack  = color.RGBA{60, 62, 74, 255}
	colField  = color.RGBA{22, 23, 28, 255}
)

// face returns the UI font at a logical size.
func (g *game) face(size float64) *text.GoTextFace {
	return &text.GoTextFace{Source: g.font, Size: size * g.scale}
}

// text draws s with its top-left corner at (x, y) in device pixels.
func (g *game) text(dst *ebiten.Image, s string, x, y, size float64, c color.Color) {
	op := &text.DrawOptions{}
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(c)
	text.Draw(dst, s, g.face(size), op)
}
