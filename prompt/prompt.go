// Package prompt holds the rules for weighted text prompts that every face shares: the CLI's
// --prompt flag, the preview's prompt box and the session's prompts op. It depends on nothing
// else of the runtime, so clients (the preview) use it without linking the loader.
package prompt

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Parse reads TEXT or TEXT::WEIGHT (the weight after the last "::", default 1) and checks
// the result with Check.
func Parse(s string) (text string, weight float32, err error) {
	text, weight = s, 1
	if i := strings.LastIndex(s, "::"); i >= 0 {
		w := strings.TrimSpace(s[i+2:])
		f, err := strconv.ParseFloat(w, 32)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			return text, weight, fmt.Errorf("prompt %q: the weight after :: must be a finite number >= 0 (e.g. %q), not %q", s, s[:i]+"::0.5", w)
		}
		text, weight = s[:i], float32(f)
	}
	return text, weight, Check(text, weight)
}

// Check reports whether a prompt can go to a plugin: a finite weight >= 0 and text without
// NUL bytes.
func Check(text string, weight float32) error {
	w := float64(weight)
	if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
		return fmt.Errorf("prompt %q: weight %g must be a finite number >= 0", text, w)
	}
	if strings.IndexByte(text, 0) >= 0 {
		return fmt.Errorf("prompt %q: text must not contain NUL bytes", text)
	}
	return nil
}
