package command

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/v4l2"
)

func (a *app) devicesCommand() *cli.Command {
	return &cli.Command{
		Name:  "devices",
		Usage: "list cameras and virtual cameras (V4L2) with their formats, sizes and frame rates",
		Description: "Cameras are inputs (--input camera, camera:N or v4l2:/dev/videoN?size=WxH&fps=F&format=mjpeg);\n" +
			"v4l2loopback virtual cameras are outputs (--output v4l2:/dev/videoN).\n\n" +
			"  $ scope devices\n  $ scope devices --json\n" +
			"  $ scope devices --record dir    # save what each device answered, for bug reports and tests",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the devices as JSON"},
			&cli.StringFlag{Name: "record", Usage: "write each device's ioctl transcript to `DIR` (one JSON file per device)"},
			&cli.StringSliceFlag{Name: "replay", Usage: "list the devices of recorded transcripts (`FILE`, repeatable) instead of /dev", Hidden: true},
		},
		Action: a.devices,
	}
}

// devicesJSON is one device in `scope devices --json`.
type devicesJSON struct {
	Path    string        `json:"path"`
	Card    string        `json:"card,omitempty"`
	Driver  string        `json:"driver,omitempty"`
	Kind    string        `json:"kind"` // camera, virtual-camera, output, other, error
	Error   string        `json:"error,omitempty"`
	Formats []v4l2.Format `json:"formats,omitempty"`
}

func (a *app) devices(_ context.Context, cmd *cli.Command) error {
	var list []v4l2.Listed
	if files := cmd.StringSlice("replay"); len(files) > 0 {
		for _, f := range files {
			t, err := v4l2.LoadTranscript(f)
			if err != nil {
				return usageError{err}
			}
			d, err := v4l2.Probe(t.Path, t.Ioctl)
			list = append(list, v4l2.Listed{Device: d, Err: err})
		}
	} else {
		list = v4l2.List("/dev")
	}
	if dir := cmd.String("record"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--record: %w", err)
		}
		for _, l := range list {
			t, err := v4l2.RecordDevice(l.Path)
			if err != nil {
				fmt.Fprintf(a.io.Err, "warning: record %s: %v\n", l.Path, err)
				continue
			}
			b, _ := json.MarshalIndent(t, "", " ")
			out := filepath.Join(dir, filepath.Base(l.Path)+".json")
			if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
				return fmt.Errorf("--record: %w", err)
			}
			fmt.Fprintf(a.io.Out, "recorded %s to %s\n", l.Path, out)
		}
	}
	if cmd.Bool("json") {
		out := []devicesJSON{}
		for _, l := range list {
			j := devicesJSON{Path: l.Path, Card: l.Card, Driver: l.Driver, Kind: kind(l), Formats: l.Formats}
			if l.Err != nil {
				j.Error = l.Err.Error()
			}
			out = append(out, j)
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(a.io.Out, string(b))
		return nil
	}
	if len(list) == 0 {
		fmt.Fprintln(a.io.Out, "no video devices (/dev/video*): plug in a camera, or make a virtual camera with\n"+
			"  sudo modprobe v4l2loopback video_nr=10 card_label=Scope exclusive_caps=1   # makes /dev/video10")
		return nil
	}
	for _, l := range list {
		if l.Err != nil {
			fmt.Fprintf(a.io.Out, "%s: %v\n", l.Path, l.Err)
			continue
		}
		fmt.Fprintf(a.io.Out, "%s  %s (%s, %s)  %s\n", l.Path, l.Card, l.Driver, l.Bus, kind(l))
		for _, f := range l.Formats {
			var modes []string
			for _, m := range f.Modes {
				s := m.Size.String()
				if len(m.FPS) > 0 {
					var r []string
					for _, fps := range m.FPS {
						r = append(r, fmt.Sprintf("%g", fps))
					}
					s += "@" + strings.Join(r, "/")
				}
				modes = append(modes, s)
			}
			sizes := strings.Join(modes, " ")
			if f.Stepwise && len(f.Modes) == 2 {
				sizes = fmt.Sprintf("any size from %v to %v", f.Modes[1].Size, f.Modes[0].Size)
			}
			fmt.Fprintf(a.io.Out, "  %-4s %-20s %s\n", f.FourCC, f.Description, sizes)
		}
		if l.Capture() && len(l.Formats) > 0 {
			if c, err := v4l2.Negotiate(l.Device, v4l2.Request{}); err == nil {
				fmt.Fprintf(a.io.Out, "  default: %s %v@%g  (--input v4l2:%s)\n", c.FourCC, c.Size, c.FPS, l.Path)
			}
		}
		if l.Output() {
			fmt.Fprintf(a.io.Out, "  use: --output v4l2:%s\n", l.Path)
		}
	}
	return nil
}

// kind names what a device is for.
func kind(l v4l2.Listed) string {
	switch {
	case l.Err != nil:
		return "error"
	case l.Capture():
		return "camera"
	case l.Output() && l.Loopback():
		return "virtual-camera"
	case l.Output():
		return "output"
	}
	return "other (no video formats)"
}
