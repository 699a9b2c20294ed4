package render

// Pure helpers of the panel: no Ebitengine, no cgo, so they are tested in every build.

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/scopenative/scope/prompt"
	"github.com/scopenative/scope/session"
)

// widgetKind is the control a parameter gets, from its type.
type widgetKind int

const (
	wHeader widgetKind = iota // a pipeline's title (selects the stage for R)
	wSlider                   // int, float
	wToggle                   // bool
	wEnum                     // enum picker
	wText                     // string (prompts)
	wColor                    // colour: swatch, hex and R/G/B sliders
	wFilter                   // the scaling filter switch
	wPrompt                   // the prompts of pipelines that take them (TEXT::WEIGHT | ...)
)

// kindOf maps a parameter type to its control.
func kindOf(t string) widgetKind {
	switch t {
	case "int", "float":
		return wSlider
	case "bool":
		return wToggle
	case "enum":
		return wEnum
	case "color":
		return wColor
	}
	return wText
}

// sortedParams returns the visible parameters: input category first, then by order.
func sortedParams(ps []session.ParamSchema) []session.ParamSchema {
	var out []session.ParamSchema
	for _, p := range ps {
		if !p.Hidden {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ci, cj := out[i].Category == "input", out[j].Category == "input"
		if ci != cj {
			return ci
		}
		return out[i].Order < out[j].Order
	})
	return out
}

// formatNumber snaps v to the parameter's step and formats it for Param.Parse.
func formatNumber(p session.ParamSchema, v float64) string {
	step := p.Step
	if p.Type == "int" {
		if step <= 0 {
			step = 1
		}
		v = p.Min + math.Round((v-p.Min)/step)*step
		v = math.Max(p.Min, math.Min(p.Max, v))
		return strconv.FormatInt(int64(v), 10)
	}
	dec := 3
	if step > 0 {
		v = p.Min + math.Round((v-p.Min)/step)*step
		dec = max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	}
	v = math.Max(p.Min, math.Min(p.Max, v))
	return strconv.FormatFloat(v, 'f', dec, 64)
}

func parseBool(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "on", "yes":
		return true
	}
	return false
}

// parseColor reads #rrggbb[aa] into RGBA 0..1 (opaque grey when unreadable).
func parseColor(s string) [4]float64 {
	h := strings.TrimPrefix(s, "#")
	c := [4]float64{0.5, 0.5, 0.5, 1}
	if len(h) != 6 && len(h) != 8 {
		return c
	}
	n, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return c
	}
	if len(h) == 6 {
		n = n<<8 | 0xff
	}
	for i := 0; i < 4; i++ {
		c[i] = float64((n>>(24-8*i))&0xff) / 255
	}
	return c
}

func formatColor(c [4]float64) string {
	b := func(x float64) int { return int(math.Round(x * 255)) }
	if b(c[3]) == 255 {
		return fmt.Sprintf("#%02x%02x%02x", b(c[0]), b(c[1]), b(c[2]))
	}
	return fmt.Sprintf("#%02x%02x%02x%02x", b(c[0]), b(c[1]), b(c[2]), b(c[3]))
}

// trimNum formats a range bound without trailing zeros.
func trimNum(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// toRGBA expands packed 1-, 3- or 4-channel pixels to RGBA. The 3-channel case (what most
// chains publish) works four pixels at a time in 32-bit words: it runs once per shown frame.
func toRGBA(dst, src []byte, channels int) {
	switch channels {
	case 4:
		copy(dst, src)
	case 3:
		i, j := 0, 0
		for ; j+12 <= len(src) && i+16 <= len(dst); i, j = i+16, j+12 {
			s := src[j : j+12 : j+12]
			a := binary.LittleEndian.Uint32(s[0:])
			b := binary.LittleEndian.Uint32(s[4:])
			c := binary.LittleEndian.Uint32(s[8:])
			d := dst[i : i+16 : i+16]
			binary.LittleEndian.PutUint64(d[0:], uint64(a|0xff000000)|uint64(a>>24|b<<8|0xff000000)<<32)
			binary.LittleEndian.PutUint64(d[8:], uint64(b>>16|c<<16|0xff000000)|uint64(c>>8|0xff000000)<<32)
		}
		for ; j+3 <= len(src) && i+4 <= len(dst); i, j = i+4, j+3 {
			dst[i], dst[i+1], dst[i+2], dst[i+3] = src[j], src[j+1], src[j+2], 255
		}
	case 1:
		for i, j := 0, 0; j < len(src) && i+4 <= len(dst); i, j = i+4, j+1 {
			v := src[j]
			dst[i], dst[i+1], dst[i+2], dst[i+3] = v, v, v, 255
		}
	}
}

// promptKey is the pseudo parameter key of the prompt box.
const promptKey = "\x00prompts"

// formatPrompts writes prompts as the prompt box shows them: "text" or "a::0.7 | b::0.3".
func formatPrompts(ps []session.Prompt) string {
	var parts []string
	for _, p := range ps {
		if p.Weight == 1 {
			parts = append(parts, p.Text)
		} else {
			parts = append(parts, p.Text+"::"+strconv.FormatFloat(float64(p.Weight), 'g', 4, 32))
		}
	}
	return strings.Join(parts, " | ")
}

// parsePrompts reads the prompt box: prompts separated by "|", each TEXT or TEXT::WEIGHT.
func parsePrompts(s string) ([]session.Prompt, error) {
	var out []session.Prompt
	for _, part := range strings.Split(s, "|") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		text, weight, err := prompt.Parse(part) // the CLI's --prompt rule, one prompt per part
		if err != nil {
			return nil, err
		}
		out = append(out, session.Prompt{Text: strings.TrimSpace(text), Weight: weight})
	}
	return out, nil
}

// nodeStatLines are the overlay's lines for the graph's nodes and sinks: per node its ms per
// call (mean and p95) and calls per second, with its queue and dropped frames once it has
// any; per sink its end-to-end latency.
func nodeStatLines(stages []session.StageInfo, sinks []session.SinkInfo) []string {
	var lines []string
	for _, s := range stages {
		l := fmt.Sprintf("%s %.2f ms (p95 %.2f) %.0f/s", s.Pipeline.ID, s.MeanMS, s.P95MS, s.FPS)
		if s.Node != "" && s.Node != s.Pipeline.ID {
			l = s.Node + ": " + l
		}
		if s.Queue > 0 || s.Dropped > 0 {
			l += fmt.Sprintf(" | q %d, dropped %d", s.Queue, s.Dropped)
		}
		if s.Isolated && (s.Restarts > 0 || s.State != "running") {
			l += fmt.Sprintf(" | isolated, %s, %d restarts", s.State, s.Restarts)
		}
		lines = append(lines, l)
		if s.LastFault != "" {
			lines = append(lines, "  "+s.LastFault)
		}
	}
	for _, sk := range sinks {
		lines = append(lines, fmt.Sprintf("%s latency %.1f ms (p99 %.1f)", sk.Name, sk.LatencyMS, sk.P99MS))
	}
	return lines
}
