package command

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/abi"
	"github.com/scopenative/scope/catalog"
	"github.com/scopenative/scope/gpu"
	"github.com/scopenative/scope/loader"
)

func (a *app) pipelinesCommand() *cli.Command {
	return &cli.Command{
		Name:      "pipelines",
		Usage:     "list every pipeline found, its plugin file, modes and parameters",
		ArgsUsage: "[PATTERN]",
		Description: "Plugins are found through --plugin, " + catalog.EnvPath + " (colon-separated files or folders)\n" +
			"and the installed-plugin folder. Plugin files that fail to load are listed with the reason.\n" +
			"PATTERN keeps the pipelines whose id contains it (or matches it, with * ? [ ]); --only keeps\n" +
			"those of the --plugin files.\n\n" +
			"  $ scope pipelines\n  $ scope pipelines frei0r\n  $ scope pipelines --plugin build/plugins/invert.so --only\n" +
			"  $ scope pipelines --json | jq '.pipelines[].id'",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of text"},
			&cli.BoolFlag{Name: "only", Usage: "list only the pipelines of the --plugin files and folders"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() > 1 {
				return usagef("pipelines takes at most one argument, a PATTERN (got %q)", strings.Join(cmd.Args().Slice(), " "))
			}
			pattern := cmd.Args().First()
			if _, err := path.Match(pattern, ""); err != nil {
				return usagef("pattern %q: %v", pattern, err)
			}
			var cat *catalog.Catalog
			if cmd.Bool("only") {
				if len(cmd.StringSlice("plugin")) == 0 {
					return usagef("--only lists the pipelines of --plugin files: add --plugin FILE")
				}
				cat = catalog.Open(catalog.SearchPath(cmd.StringSlice("plugin"), ""), loader.Options{Logger: a.logger(cmd)})
			} else {
				cat = a.openCatalog(cmd)
			}
			defer cat.Close()
			ps := filterPipelines(cat.Pipelines(), pattern)
			cuda := a.cudaStatus(ps)
			if cmd.Bool("json") {
				return writePipelinesJSON(a.io.Out, ps, cat.Failed, cuda)
			}
			if len(ps) == 0 && len(cat.Pipelines()) > 0 {
				return usagef("no pipeline matches %q ('scope pipelines' lists all %d)", pattern, len(cat.Pipelines()))
			}
			writePipelinesText(a.io.Out, ps, cuda)
			for _, f := range cat.Failed {
				fmt.Fprintf(a.io.Err, "warning: %v\n", f.Err)
			}
			return nil
		},
	}
}

// PipelineJSON is the JSON form of one pipeline in `scope pipelines --json`.
type PipelineJSON struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	Description     string     `json:"description,omitempty"`
	Version         string     `json:"version,omitempty"`
	Author          string     `json:"author,omitempty"`
	Plugin          string     `json:"plugin"`
	Modes           []ModeJSON `json:"modes"`
	Memory          []string   `json:"memory"`
	SupportsPrompts bool       `json:"supports_prompts"`
	ProducesAudio   bool       `json:"produces_audio"`
	// Nondeterministic: the pipeline declares SCOPE_PIPELINE_NONDETERMINISTIC (its output
	// depends on randomness or wall time).
	Nondeterministic bool     `json:"nondeterministic"`
	InputPorts       []string `json:"input_ports,omitempty"`
	// NeedsCUDA is set for a pipeline that takes CUDA memory only when this machine cannot
	// run CUDA: the reason.
	NeedsCUDA string      `json:"needs_cuda,omitempty"`
	Params    []ParamJSON `json:"params"`
}

// ModeJSON is one mode of a pipeline.
type ModeJSON struct {
	Mode      string `json:"mode"`
	Default   bool   `json:"default"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
	InputSize int    `json:"input_size,omitempty"`
}

// ParamJSON is one parameter of a pipeline.
type ParamJSON struct {
	Key         string   `json:"key"`
	Type        string   `json:"type"`
	Label       string   `json:"label"`
	Description string   `json:"description,omitempty"`
	Default     any      `json:"default"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	Step        *float64 `json:"step,omitempty"`
	Options     []string `json:"options,omitempty"`
	LoadTime    bool     `json:"load_time"`
	Category    string   `json:"category"`
	Order       int      `json:"order"`
}

func memoryNames(mask uint32) []string {
	var out []string
	if mask&abi.MemoryHost != 0 {
		out = append(out, "host")
	}
	if mask&abi.MemoryCUDA != 0 {
		out = append(out, "cuda")
	}
	return out
}

// cudaStatus probes CUDA when some pipeline needs it and returns "" when CUDA is usable (or
// nobody needs it), else the one-line reason.
func (a *app) cudaStatus(ps []*loader.Pipeline) string {
	for _, p := range ps {
		if needsCUDA(p) {
			if _, err := gpu.Probe(0, a.gpuOptions()); err != nil {
				return err.Error()
			}
			return ""
		}
	}
	return ""
}

func pipelineJSON(p *loader.Pipeline, cudaUnavailable string) PipelineJSON {
	j := PipelineJSON{ID: p.ID, Name: p.Name, Description: p.Description, Version: p.Version, Author: p.Author,
		Plugin: p.Library().Path(), Memory: memoryNames(p.Memory), SupportsPrompts: p.SupportsPrompts,
		ProducesAudio: p.ProducesAudio, Nondeterministic: p.Nondeterministic, InputPorts: p.InputPorts, Params: []ParamJSON{}}
	if needsCUDA(p) {
		j.NeedsCUDA = cudaUnavailable
	}
	for _, m := range p.Modes {
		j.Modes = append(j.Modes, ModeJSON{Mode: m.Mode.String(), Default: m.Default, Width: m.Width, Height: m.Height, InputSize: m.InputSize})
	}
	for _, q := range p.Params {
		pj := ParamJSON{Key: q.Key, Type: q.Type.String(), Label: q.Label, Description: q.Description, Default: q.Default.JSON(),
			LoadTime: q.LoadTime, Category: q.Category, Order: q.Order, Options: nil}
		if q.Type == loader.ParamInt || q.Type == loader.ParamFloat {
			lo, hi, st := q.Min, q.Max, q.Step
			pj.Min, pj.Max, pj.Step = &lo, &hi, &st
		}
		if q.Type == loader.ParamEnum {
			pj.Options = q.OptionKeys()
		}
		j.Params = append(j.Params, pj)
	}
	return j
}

// filterPipelines keeps the pipelines whose id contains pattern, or matches it as a glob when
// it has * ? or [ (case-insensitive); an empty pattern keeps all.
func filterPipelines(ps []*loader.Pipeline, pattern string) []*loader.Pipeline {
	if pattern == "" {
		return ps
	}
	pat := strings.ToLower(pattern)
	glob := strings.ContainsAny(pat, "*?[")
	var out []*loader.Pipeline
	for _, p := range ps {
		id := strings.ToLower(p.ID)
		if ok, _ := path.Match(pat, id); ok || (!glob && strings.Contains(id, pat)) {
			out = append(out, p)
		}
	}
	return out
}

func writePipelinesJSON(w io.Writer, ps []*loader.Pipeline, failures []catalog.Failure, cudaUnavailable string) error {
	type failed struct {
		Plugin string `json:"plugin"`
		Error  string `json:"error"`
	}
	out := struct {
		Pipelines []PipelineJSON `json:"pipelines"`
		Failed    []failed       `json:"failed"`
	}{Pipelines: []PipelineJSON{}, Failed: []failed{}}
	for _, p := range ps {
		out.Pipelines = append(out.Pipelines, pipelineJSON(p, cudaUnavailable))
	}
	for _, f := range failures {
		out.Failed = append(out.Failed, failed{Plugin: f.Path, Error: f.Err.Error()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writePipelinesText(w io.Writer, ps []*loader.Pipeline, cudaUnavailable string) {
	if len(ps) == 0 {
		fmt.Fprintf(w, "No pipelines found. Build the examples (make examples) and add build/plugins to %s,\nor pass --plugin PATH.\n", catalog.EnvPath)
		return
	}
	for i, p := range ps {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s — %s (%s)\n", p.ID, p.Name, p.Library().Path())
		if p.Description != "" {
			fmt.Fprintf(w, "  %s\n", p.Description)
		}
		var modes []string
		for _, m := range p.Modes {
			s := m.Mode.String()
			var extra []string
			if m.Default && len(p.Modes) > 1 {
				extra = append(extra, "default")
			}
			if m.Width > 0 {
				extra = append(extra, fmt.Sprintf("%dx%d", m.Width, m.Height))
			}
			if m.InputSize > 0 {
				extra = append(extra, fmt.Sprintf("%d input frame(s)", m.InputSize))
			}
			if len(extra) > 0 {
				s += " (" + strings.Join(extra, ", ") + ")"
			}
			modes = append(modes, s)
		}
		mem := "memory: " + strings.Join(memoryNames(p.Memory), ", ")
		if needsCUDA(p) && cudaUnavailable != "" {
			mem += " (needs CUDA: " + cudaUnavailable + ")"
		}
		feats := []string{mem}
		if p.SupportsPrompts {
			feats = append(feats, "prompts")
		}
		if p.ProducesAudio {
			feats = append(feats, "audio")
		}
		if p.Nondeterministic {
			feats = append(feats, "nondeterministic")
		}
		if len(p.InputPorts) > 1 {
			feats = append(feats, fmt.Sprintf("%d inputs (%s; not runnable in a chain yet)", len(p.InputPorts), strings.Join(p.InputPorts, ", ")))
		}
		fmt.Fprintf(w, "  modes: %s; %s\n", strings.Join(modes, ", "), strings.Join(feats, "; "))
		if len(p.Params) == 0 {
			fmt.Fprintln(w, "  no parameters")
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, q := range p.Params {
			note := q.Description
			if q.LoadTime {
				note = strings.TrimSpace("(load-time) " + note)
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\tdefault %s\t%s\n", q.Key, q.Type, q.Range(), q.Default.Text(), note)
		}
		tw.Flush()
	}
}
