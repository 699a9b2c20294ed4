package command

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/audio"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/media"
)

// liveIOFlags are the `scope run` flags for live inputs and for encoding file and stream
// outputs.
func liveIOFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "loop", Usage: "play a file input again from the start when it ends (stop with --frames or Ctrl-C)"},
		&cli.StringFlag{Name: "codec", Usage: "video codec of file and stream outputs: " + media.CodecNames() + ", or an ffmpeg encoder (default h264; vp8 for .webm)"},
		&cli.IntFlag{Name: "crf", Usage: "constant quality of file and stream outputs, lower is better, 0 lossless", DefaultText: "18 for files, 23 for streams"},
		&cli.StringFlag{Name: "bitrate", Usage: "target video bitrate of file and stream outputs, like 4M or 2500k (instead of --crf)"},
		&cli.StringFlag{Name: "pix-fmt", Usage: "encoded pixel format of file, stream and virtual-camera outputs (default yuv420p; yuv444p keeps full colour)"},
	}
}

// liveSourceOptions adds the live-input settings to the source options: --loop, a warning
// when a camera is lost (the run goes on and retries), the environment for DISPLAY.
func (a *app) liveSourceOptions(cmd *cli.Command, opts *media.SourceOptions) {
	opts.Loop = cmd.Bool("loop")
	opts.Env = a.io.Env
	errOut := a.io.Err
	opts.OnLost = func(err error) { fmt.Fprintf(errOut, "warning: %v\n", err) }
}

// encodeOptions reads the encoding flags (--fps, --codec, --crf, --bitrate, --pix-fmt) that
// every file and stream sink of a run is created with.
func encodeOptions(cmd *cli.Command) media.SinkOptions {
	return media.SinkOptions{FPS: cmd.Float("fps"), Codec: cmd.String("codec"), CRF: int(cmd.Int("crf")),
		CRFSet: cmd.IsSet("crf"), Bitrate: cmd.String("bitrate"), PixFmt: cmd.String("pix-fmt")}
}

// sinkOptions reads the encoding flags and plans where audio goes: the audio of pipelines
// that produce it, else the input's own audio track, is muxed into an output that can carry
// it. When audio exists and the output cannot carry it, a warning says so.
func (a *app) sinkOptions(ctx context.Context, cmd *cli.Command, s *session) media.SinkOptions {
	o := encodeOptions(cmd)
	input, output := cmd.String("input"), cmd.String("output")
	if o.FPS == 0 && s.source != nil {
		o.FPS = media.FrameRate(s.source) // keep the input's timing (and its audio in step)
	}
	var producer *loader.Pipeline
	for _, p := range s.spec.pipelines {
		if p.ProducesAudio {
			producer = p
			break
		}
	}
	switch {
	case producer != nil && media.CarriesAudio(output):
		o.Audio = true
	case producer != nil:
		if output != "null" {
			fmt.Fprintf(a.io.Err, "warning: %s produces audio, but %s cannot carry audio; write an .mp4, .mkv or .webm, or the audio alone with --audio out.wav\n", producer.ID, output)
		}
	case s.source != nil && input != "" && media.HasAudio(ctx, input):
		if media.CarriesAudio(output) {
			o.AudioFrom, o.AudioLoop = input, cmd.Bool("loop")
		} else if output != "null" {
			fmt.Fprintf(a.io.Err, "warning: %s has an audio track, but %s cannot carry audio, so it is dropped; write an .mp4, .mkv or .webm to keep it\n", input, output)
		}
	}
	return o
}

// maxPendingAudio is how much audio (in 48 kHz stereo samples) lazySink keeps before its sink
// opens: a few seconds, more is dropped.
const maxPendingAudio = 5 * audio.Rate * audio.Channels

// writeAudio sends a stage's audio to the sink (converted to 48 kHz stereo), keeping what
// comes before the first frame opens it.
func (l *lazySink) writeAudio(a *loader.Audio, warn io.Writer) {
	if !l.opts.Audio {
		return
	}
	pcm := l.conv.Convert(a.Samples[:a.Frames*a.Channels], a.Channels, a.SampleRate)
	if l.sink == nil {
		if len(l.pending)+len(pcm) > maxPendingAudio {
			return
		}
		l.pending = append(l.pending, pcm...)
		return
	}
	as, ok := l.sink.(media.AudioSink)
	if !ok || l.audioErr {
		return
	}
	if len(l.pending) > 0 {
		pcm = append(l.pending, pcm...)
		l.pending = nil
	}
	if err := as.WriteAudio(pcm); err != nil {
		l.audioErr = true
		fmt.Fprintf(warn, "warning: %v (no more audio)\n", err)
	}
}
