//go:build cgo

package render

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"github.com/scopenative/scope/session"
)

// widget is one row of the panel, laid out in device pixels.
type widget struct {
	kind       widgetKind
	stage      int
	p          session.ParamSchema
	x, y, w, h float64
	disabled   bool
	title      string // headers
}

func (w *widget) id() pkey { return pkey{w.stage, w.p.Key} }

func (w *widget) contains(x, y float64) bool {
	return x >= w.x && x < w.x+w.w && y >= w.y && y < w.y+w.h
}

// rowHeight is a widget's height in logical pixels.
func rowHeight(k widgetKind) float64 {
	switch k {
	case wHeader:
		return 44
	case wSlider:
		return 44
	case wToggle, wFilter:
		return 30
	case wEnum, wText, wPrompt:
		return 50
	case wColor:
		return 76
	}
	return 30
}

// layout builds the panel's widgets for the current state and window.
func (g *game) layout() {
	g.widgets = g.widgets[:0]
	if g.hide {
		return
	}
	pw := g.panelWidth()
	x := float64(g.w) - pw
	y := g.px(10) - g.scroll
	add := func(w widget) {
		w.x, w.y, w.w, w.h = x+g.px(10), y, pw-g.px(20), g.px(rowHeight(w.kind))
		g.widgets = append(g.widgets, w)
		y += w.h + g.px(6)
	}
	add(widget{kind: wFilter})
	for i, st := range g.state.Stages {
		add(widget{kind: wHeader, stage: i, title: fmt.Sprintf("%d. %s", i+1, st.Pipeline.Name)})
		if st.Pipeline.SupportsPrompts {
			add(widget{kind: wPrompt, stage: i, p: session.ParamSchema{Key: promptKey, Label: "Prompt (TEXT::WEIGHT | ...)"}, disabled: g.ended})
		}
		for _, p := range sortedParams(st.Pipeline.Params) {
			add(widget{kind: kindOf(p.Type), stage: i, p: p, disabled: p.LoadTime || g.ended})
		}
	}
	// Clamp the scroll to the content.
	content := y + g.scroll - g.px(10)
	if maxScroll := max(0, content-float64(g.h)+g.px(20)); g.scroll > maxScroll {
		g.scroll = maxScroll
	}
}

// value returns a parameter's value as text: what the user just set, else the session's.
func (g *game) value(stage int, key string) string {
	k := pkey{stage, key}
	sv := ""
	if key == promptKey {
		sv = formatPrompts(g.state.Prompts)
	} else if stage < len(g.state.Stages) {
		sv = g.state.Stages[stage].Values[key]
	}
	if lv, ok := g.local[k]; ok {
		if time.Now().Before(lv.until) && lv.text != sv {
			return lv.text
		}
		delete(g.local, k)
	}
	return sv
}

// setValue shows v at once and sends it to the session.
func (g *game) setValue(stage int, key, v string) {
	if g.value(stage, key) == v {
		return
	}
	if key == promptKey {
		ps, err := parsePrompts(v)
		if err != nil {
			g.status("%v", err)
			return
		}
		for i := range g.state.Stages { // every stage that takes prompts shows the same text
			g.local[pkey{i, key}] = localValue{text: v, until: time.Now().Add(1500 * time.Millisecond)}
		}
		g.localGen++
		g.rem.do(func(ctx context.Context, c control) error {
			return c.Call(ctx, session.OpPrompts, session.PromptsArgs{Prompts: ps}, nil)
		})
		return
	}
	g.localGen++
	g.local[pkey{stage, key}] = localValue{text: v, until: time.Now().Add(1500 * time.Millisecond)}
	g.rem.set(stage, key, v)
}

// findWidget returns the current widget for an id.
func (g *game) findWidget(id pkey, kind widgetKind) *widget {
	for i := range g.widgets {
		w := &g.widgets[i]
		if w.kind == kind && w.id() == id {
			return w
		}
	}
	return nil
}

// dragState is the slider being dragged (sub: colour channel 0..2).
type dragState struct {
	id   pkey
	kind widgetKind
	sub  int
}

// mouse handles clicks, drags and the wheel over the panel.
func (g *game) mouse() {
	mx, my := ebiten.CursorPosition()
	x, y := float64(mx), float64(my)
	inPanel := !g.hide && x >= float64(g.w)-g.panelWidth()
	if _, wy := ebiten.Wheel(); wy != 0 && inPanel && g.open == nil {
		g.scroll = max(0, g.scroll-wy*g.px(40))
	}
	pressed := inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft)
	if g.open != nil {
		if pressed {
			w := g.findWidget(*g.open, wEnum)
			if w != nil {
				for i, o := range w.p.Options {
					if rectContains(g.optionRect(w, i), x, y) {
						g.setValue(w.stage, w.p.Key, o.Key)
					}
				}
			}
			g.open = nil
		}
		return
	}
	if g.drag != nil {
		if !ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft) {
			g.drag = nil
			return
		}
		if w := g.findWidget(g.drag.id, g.drag.kind); w != nil {
			g.dragTo(w, g.drag.sub, x)
		}
		return
	}
	if !pressed {
		return
	}
	var hit *widget
	for i := range g.widgets {
		if g.widgets[i].contains(x, y) {
			hit = &g.widgets[i]
			break
		}
	}
	if g.focus != nil && (hit == nil || (hit.kind != wText && hit.kind != wPrompt) || hit.id() != *g.focus) {
		g.commitText()
	}
	if hit == nil {
		return
	}
	if hit.kind != wFilter {
		g.stage = hit.stage
	}
	if hit.disabled && hit.kind != wHeader {
		if hit.p.LoadTime {
			g.status("%s is a load-time parameter: restart the run with --load-param to change it", hit.p.Label)
		}
		return
	}
	switch hit.kind {
	case wFilter:
		g.linear = !g.linear
	case wHeader:
		g.status("stage %d selected (R reloads its plugin)", hit.stage+1)
	case wSlider:
		g.drag = &dragState{id: hit.id(), kind: wSlider}
		g.dragTo(hit, 0, x)
	case wColor:
		if sub := g.colorChannelAt(hit, y); sub >= 0 {
			g.drag = &dragState{id: hit.id(), kind: wColor, sub: sub}
			g.dragTo(hit, sub, x)
		}
	case wToggle:
		on := parseBool(g.value(hit.stage, hit.p.Key))
		g.setValue(hit.stage, hit.p.Key, strconv.FormatBool(!on))
	case wEnum:
		id := hit.id()
		g.open = &id
	case wText, wPrompt:
		id := hit.id()
		g.focus = &id
		g.edit = g.value(hit.stage, hit.p.Key)
	}
}

func rectContains(r [4]float64, x, y float64) bool {
	return x >= r[0] && x < r[0]+r[2] && y >= r[1] && y < r[1]+r[3]
}

// track returns a slider's track rectangle inside a widget (sub: colour channel, -1 = slider).
func (g *game) track(w *widget, sub int) [4]float64 {
	if sub < 0 {
		return [4]float64{w.x + g.px(2), w.y + g.px(28), w.w - g.px(4), g.px(6)}
	}
	return [4]float64{w.x + g.px(22), w.y + g.px(30) + float64(sub)*g.px(15), w.w - g.px(24), g.px(6)}
}

func (g *game) colorChannelAt(w *widget, y float64) int {
	for c := 0; c < 3; c++ {
		t := g.track(w, c)
		if y >= t[1]-g.px(5) && y < t[1]+t[3]+g.px(5) {
			return c
		}
	}
	return -1
}

// dragTo sets a slider (or a colour channel) from the cursor's x.
func (g *game) dragTo(w *widget, sub int, x float64) {
	if w.kind == wColor {
		t := g.track(w, sub)
		f := math.Max(0, math.Min(1, (x-t[0])/t[2]))
		c := parseColor(g.value(w.stage, w.p.Key))
		c[sub] = math.Round(f*255) / 255
		g.setValue(w.stage, w.p.Key, formatColor(c))
		return
	}
	t := g.track(w, -1)
	f := math.Max(0, math.Min(1, (x-t[0])/t[2]))
	v := w.p.Min + f*(w.p.Max-w.p.Min)
	g.setValue(w.stage, w.p.Key, formatNumber(w.p, v))
}

// typeText edits the focused text box: Enter sends, Esc cancels, a click elsewhere sends.
func (g *game) typeText() error {
	g.edit = string(ebiten.AppendInputChars([]rune(g.edit)))
	if repeat(ebiten.KeyBackspace) && g.edit != "" {
		_, n := utf8.DecodeLastRuneInString(g.edit)
		g.edit = g.edit[:len(g.edit)-n]
	}
	switch {
	case inpututil.IsKeyJustPressed(ebiten.KeyEnter), inpututil.IsKeyJustPressed(ebiten.KeyNumpadEnter):
		g.commitText()
	case inpututil.IsKeyJustPressed(ebiten.KeyEscape):
		g.focus = nil
	default:
		g.mouse()
	}
	return nil
}

func (g *game) commitText() {
	if g.focus != nil {
		g.setValue(g.focus.stage, g.focus.key, g.edit)
	}
	g.focus = nil
}

// repeat reports a key press with auto-repeat.
func repeat(k ebiten.Key) bool {
	d := inpututil.KeyPressDuration(k)
	return d == 1 || (d > 30 && d%3 == 0)
}

// optionRect is option i of an open enum dropdown.
func (g *game) optionRect(w *widget, i int) [4]float64 {
	box := g.boxRect(w)
	return [4]float64{box[0], box[1] + box[3] + float64(i)*g.px(24), box[2], g.px(24)}
}

// boxRect is the field of an enum or text widget.
func (g *game) boxRect(w *widget) [4]float64 {
	return [4]float64{w.x, w.y + g.px(22), w.w, g.px(24)}
}

func fillRect(dst *ebiten.Image, r [4]float64, c color.Color) {
	vector.DrawFilledRect(dst, float32(r[0]), float32(r[1]), float32(r[2]), float32(r[3]), c, false)
}

// drawPanel draws every widget, then an open dropdown on top.
func (g *game) drawPanel(dst *ebiten.Image) {
	pw := g.panelWidth()
	fillRect(dst, [4]float64{float64(g.w) - pw, 0, pw, float64(g.h)}, colPanel)
	if !g.have {
		g.text(dst, "connecting to the session...", float64(g.w)-pw+g.px(16), g.px(50), 13, colDim)
	}
	for i := range g.widgets {
		w := &g.widgets[i]
		if w.y+w.h < 0 || w.y > float64(g.h) {
			continue
		}
		g.drawWidget(dst, w)
	}
	if g.open != nil {
		if w := g.findWidget(*g.open, wEnum); w != nil {
			cur := g.value(w.stage, w.p.Key)
			for i, o := range w.p.Options {
				r := g.optionRect(w, i)
				c := color.Color(colField)
				if o.Key == cur {
					c = colTrack
				}
				fillRect(dst, r, c)
				g.text(dst, o.Label, r[0]+g.px(8), r[1]+g.px(4), 13, colText)
			}
		}
	}
}

func (g *game) drawWidget(dst *ebiten.Image, w *widget) {
	label, fg := w.p.Label, color.Color(colText)
	if w.disabled {
		fg = colDim
	}
	if w.p.LoadTime {
		label += " (load-time)"
	}
	val := g.value(w.stage, w.p.Key)
	right := func(s string, y float64, c color.Color) {
		g.text(dst, s, w.x+w.w-text.Advance(s, g.face(12)), y, 12, c)
	}
	switch w.kind {
	case wFilter:
		f := "linear"
		if !g.linear {
			f = "nearest"
		}
		g.text(dst, "Scaling filter", w.x, w.y+g.px(6), 13, colText)
		r := [4]float64{w.x + w.w - g.px(90), w.y + g.px(2), g.px(90), g.px(24)}
		fillRect(dst, r, colField)
		g.text(dst, f, r[0]+g.px(10), r[1]+g.px(4), 13, colAccent)
	case wHeader:
		st := g.state.Stages[w.stage]
		c := color.Color(colText)
		if w.stage == g.stage {
			fillRect(dst, [4]float64{w.x - g.px(10), w.y, g.px(4), w.h}, colAccent)
		}
		g.text(dst, w.title, w.x, w.y+g.px(4), 16, c)
		g.text(dst, fmt.Sprintf("%s  %s  %.2f ms", st.Pipeline.ID, st.Mode, st.MeanMS), w.x, w.y+g.px(25), 11, colDim)
	case wSlider:
		g.text(dst, label, w.x, w.y+g.px(2), 13, fg)
		right(val, w.y+g.px(2), fg)
		t := g.track(w, -1)
		fillRect(dst, t, colTrack)
		f := 0.0
		if v, err := strconv.ParseFloat(val, 64); err == nil && w.p.Max > w.p.Min {
			f = math.Max(0, math.Min(1, (v-w.p.Min)/(w.p.Max-w.p.Min)))
		}
		ac := color.Color(colAccent)
		if w.disabled {
			ac = colDim
		}
		fillRect(dst, [4]float64{t[0], t[1], t[2] * f, t[3]}, ac)
		vector.DrawFilledCircle(dst, float32(t[0]+t[2]*f), float32(t[1]+t[3]/2), float32(g.px(7)), fg, true)
		rng := fmt.Sprintf("%s..%s", trimNum(w.p.Min), trimNum(w.p.Max))
		right(rng, w.y+g.px(36)-g.px(2), colDim)
	case wToggle:
		g.text(dst, label, w.x, w.y+g.px(6), 13, fg)
		on := parseBool(val)
		r := [4]float64{w.x + w.w - g.px(44), w.y + g.px(4), g.px(44), g.px(22)}
		bg := color.Color(colTrack)
		if on && !w.disabled {
			bg = colAccent
		}
		fillRect(dst, r, bg)
		kx := r[0] + g.px(11)
		if on {
			kx = r[0] + r[2] - g.px(11)
		}
		vector.DrawFilledCircle(dst, float32(kx), float32(r[1]+r[3]/2), float32(g.px(8)), fg, true)
	case wEnum:
		g.text(dst, label, w.x, w.y+g.px(2), 13, fg)
		box := g.boxRect(w)
		fillRect(dst, box, colField)
		shown := val
		for _, o := range w.p.Options {
			if o.Key == val {
				shown = o.Label
			}
		}
		g.text(dst, shown, box[0]+g.px(8), box[1]+g.px(4), 13, fg)
		right("v", box[1]+g.px(5), colDim)
	case wText, wPrompt:
		g.text(dst, label, w.x, w.y+g.px(2), 13, fg)
		box := g.boxRect(w)
		fillRect(dst, box, colField)
		s := val
		focused := g.focus != nil && *g.focus == w.id()
		if focused {
			s = g.edit
			if time.Now().UnixMilli()/500%2 == 0 {
				s += "|"
			}
			vector.StrokeRect(dst, float32(box[0]), float32(box[1]), float32(box[2]), float32(box[3]), float32(g.px(1)), colAccent, false)
		}
		for s != "" && text.Advance(s, g.face(13)) > box[2]-g.px(16) {
			_, n := utf8.DecodeRuneInString(s)
			s = s[n:]
		}
		g.text(dst, s, box[0]+g.px(8), box[1]+g.px(4), 13, fg)
	case wColor:
		g.text(dst, label, w.x, w.y+g.px(2), 13, fg)
		c := parseColor(val)
		sw := [4]float64{w.x + w.w - g.px(40), w.y, g.px(40), g.px(20)}
		fillRect(dst, sw, color.NRGBA{uint8(c[0] * 255), uint8(c[1] * 255), uint8(c[2] * 255), 255})
		g.text(dst, val, sw[0]-g.px(8)-text.Advance(val, g.face(12)), w.y+g.px(3), 12, colDim)
		for ch, name := range []string{"R", "G", "B"} {
			t := g.track(w, ch)
			g.text(dst, name, w.x, t[1]-g.px(5), 11, colDim)
			fillRect(dst, t, colTrack)
			fillRect(dst, [4]float64{t[0], t[1], t[2] * c[ch], t[3]}, []color.Color{color.RGBA{220, 70, 70, 255}, color.RGBA{70, 200, 90, 255}, color.RGBA{80, 120, 240, 255}}[ch])
		}
	}
}
