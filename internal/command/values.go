package command

import (
	"math"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/loader"
)

// The value syntax of the command line (docs/guide-params.md says the same for users):
//
//   - urfave/cli never splits a flag at its commas (noSliceSplitting): what reaches the
//     command is exactly what was typed between the shell's quotes.
//   - --prompt is one prompt per flag, commas included; repeat the flag for several.
//   - --param and --load-param take key=value, repeatable. One flag may hold several
//     key=value separated by commas: a comma starts a new pair only when what follows it is
//     NAME= (NAME of letters, digits, '_', '-', '.'), so s=a,b and color=0.2,0.4,0.6 are one
//     pair each. "\," is always a literal comma and "\\" a backslash (other backslashes stay).

// paramSyntaxHint ends the messages about a --param that may have been split where the user
// did not mean it.
const paramSyntaxHint = `a comma followed by NAME= starts a new key=value; write \, for a comma inside a value, or repeat --param`

// noSliceSplitting turns off urfave/cli's comma splitting of slice flags in cmd and every
// command below it: the setting is per command, the root's does not reach subcommands.
func noSliceSplitting(cmd *cli.Command) {
	cmd.DisableSliceFlagSeparator = true
	for _, sub := range cmd.Commands {
		noSliceSplitting(sub)
	}
}

// splitAssignments splits one --param value into its key=value pairs (see the syntax above)
// and resolves the \, and \\ escapes.
func splitAssignments(s string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == ',' || s[i+1] == '\\'):
			cur.WriteByte(s[i+1])
			i++
		case c == ',' && startsPair(s[i+1:]):
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

// startsPair reports whether s begins (after spaces) with NAME=.
func startsPair(s string) bool {
	s = strings.TrimLeft(s, " ")
	n := 0
	for n < len(s) && isNameByte(s[n]) {
		n++
	}
	return n > 0 && n < len(s) && s[n] == '='
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// parsePrompts reads the --prompt flags: one prompt each, TEXT or TEXT::WEIGHT.
func parsePrompts(args []string) ([]loader.Prompt, error) {
	var out []loader.Prompt
	for _, a := range args {
		p, err := loader.ParsePrompt(a)
		if err != nil {
			return nil, usagef("--prompt: %v", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// maxFPS bounds --fps: beyond it the pacing interval is below what the engine can keep.
const maxFPS = 1000

// checkFPS refuses an --fps that is not a finite number 0..maxFPS (NaN or Inf would run the
// chain unpaced without a word).
func checkFPS(cmd *cli.Command) error {
	f := cmd.Float("fps")
	if math.IsNaN(f) || f < 0 || f > maxFPS {
		return usagef("--fps %v: use a number of frames per second from 0 to %d (0: as fast as the chain runs), e.g. --fps 30", f, maxFPS)
	}
	return nil
}
