package validate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Status is the outcome of one check.
type Status string

// The four outcomes. A skip is not a pass: the check could not run (no GPU, a prerequisite
// failed...) and the reason says why.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is the outcome of one check on one subject: the library, a pipeline, or a pipeline
// in one mode and memory kind.
type Result struct {
	// Check is the check's id (see Checks).
	Check string `json:"check"`
	// Subject names what was checked for the text report: the plugin file's base name for
	// library checks, else the pipeline id with its mode and memory kind where the pipeline
	// has several ("invert", "prompt-color (text)", "blur (video, cuda)").
	Subject string `json:"subject"`
	// Pipeline, Mode ("text", "video") and Memory ("host", "cuda") are empty where they do
	// not apply.
	Pipeline string `json:"pipeline,omitempty"`
	Mode     string `json:"mode,omitempty"`
	Memory   string `json:"memory,omitempty"`
	Status   Status `json:"status"`
	// Reason is one line: what was verified for a pass, what is wrong otherwise.
	Reason string `json:"reason"`
	// Duration is how long the check took, child process included.
	Duration time.Duration `json:"-"`
}

// MarshalJSON writes the duration in milliseconds.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		DurationMS float64 `json:"duration_ms"`
	}{plain(r), float64(r.Duration.Microseconds()) / 1000})
}

// Report is the outcome of validating one plugin file.
type Report struct {
	// Plugin is the file as given to Run.
	Plugin string `json:"plugin"`
	// Name and Version come from the plugin's scope_plugin table (empty when it does not load).
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// Pipelines lists the pipeline ids found (empty when the library does not load).
	Pipelines []string `json:"pipelines"`
	// Results in check order: library checks first, then each pipeline's.
	Results []Result `json:"results"`
	// Checked is how many pipelines have per-pipeline results: fewer than Pipelines when a
	// sample was checked or the time budget ran out.
	Checked int `json:"pipelines_checked"`
	// Notes say what was left out and why (a sample, the time budget), one line each.
	Notes []string `json:"notes,omitempty"`
}

// Count returns how many results have status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Failed reports whether any check failed. `scope plugin validate` exits with status 1 then,
// and `scope plugin install` refuses the plugin.
func (r *Report) Failed() bool { return r.Count(Fail) > 0 }

// Summary returns "N passed, N warnings, N failed, N skipped".
func (r *Report) Summary() string {
	return fmt.Sprintf("%d passed, %d warnings, %d failed, %d skipped", r.Count(Pass), r.Count(Warn), r.Count(Fail), r.Count(Skip))
}

// marks are the symbols that start each result line of the text report.
var marks = map[Status]string{Pass: "✓", Warn: "!", Fail: "✗", Skip: "-"}

// WriteText writes the human report: a header naming the plugin, the results grouped as
// passed / warnings / failed / skipped (empty groups left out) with one line each, and the
// summary line.
//
//	✗ invert: write-outside-output: 1921x1081 rgb u8: 3 guard bytes changed after the output's last row
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "validate %s", r.Plugin)
	if r.Name != "" {
		fmt.Fprintf(&b, ": %s %s", r.Name, r.Version)
	}
	if n := len(r.Pipelines); n > 0 {
		ids := strings.Join(r.Pipelines, ", ")
		if n > 8 {
			ids = strings.Join(r.Pipelines[:8], ", ") + fmt.Sprintf(" and %d more", n-8)
		}
		fmt.Fprintf(&b, ", %d pipeline%s (%s)", n, plural(n), ids)
	}
	b.WriteString("\n")
	for _, g := range []struct {
		status Status
		title  string
	}{{Pass, "passed"}, {Warn, "warnings"}, {Fail, "failed"}, {Skip, "skipped"}} {
		if r.Count(g.status) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s\n", g.title)
		for _, res := range r.Results {
			if res.Status == g.status {
				fmt.Fprintf(&b, "  %s %s: %s: %s\n", marks[res.Status], res.Subject, res.Check, oneLine(res.Reason))
			}
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "note: %s\n", oneLine(n))
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.Summary())
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one indented JSON object, with the counts beside the
// results:
//
//	{"plugin": "...", "name": "...", "passed": 18, "warnings": 1, "failed": 0, "skipped": 0,
//	 "results": [{"check": "sizes", "subject": "invert", "status": "pass", ...}, ...]}
func (r *Report) WriteJSON(w io.Writer) error {
	type plain Report
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*plain
		Passed   int  `json:"passed"`
		Warnings int  `json:"warnings"`
		Failed   int  `json:"failed"`
		Skipped  int  `json:"skipped"`
		OK       bool `json:"ok"`
	}{(*plain)(r), r.Count(Pass), r.Count(Warn), r.Count(Fail), r.Count(Skip), !r.Failed()})
}

// oneLine keeps a reason on one line of the text report.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
