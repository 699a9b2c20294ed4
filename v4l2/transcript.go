package v4l2

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Transcript is a recorded conversation with one device: every ioctl Probe made, with the
// bytes it sent and the bytes (or errno) it got back. Tests replay it on machines without the
// device; `scope devices --record DIR` writes one per device.
type Transcript struct {
	Path  string `json:"path"`
	Calls []Call `json:"calls"`
}

// Call is one recorded ioctl.
type Call struct {
	Req   string `json:"req"`   // request number, hex
	In    string `json:"in"`    // argument bytes before the call, hex
	Out   string `json:"out"`   // argument bytes after it, hex (empty on error)
	Errno int    `json:"errno"` // 0 on success
}

// ErrNotRecorded is returned by a replayed ioctl that the transcript does not hold.
var ErrNotRecorded = errors.New("ioctl not in the transcript")

// Ioctl replays the transcript: a call with the same request and input bytes gets the
// recorded answer.
func (t *Transcript) Ioctl(req uint32, arg []byte) error {
	r, in := fmt.Sprintf("%#x", req), hex.EncodeToString(arg)
	for _, c := range t.Calls {
		if c.Req != r || c.In != in {
			continue
		}
		if c.Errno != 0 {
			return syscall.Errno(c.Errno)
		}
		out, err := hex.DecodeString(c.Out)
		if err != nil || len(out) != len(arg) {
			return fmt.Errorf("transcript %s: bad answer to %s: %d bytes for %d", t.Path, r, len(out), len(arg))
		}
		copy(arg, out)
		return nil
	}
	return fmt.Errorf("transcript %s: request %s with input %s: %w", t.Path, r, in, ErrNotRecorded)
}

// Record wraps ioctl so that every call is appended to the transcript.
func (t *Transcript) Record(ioctl Ioctl) Ioctl {
	return func(req uint32, arg []byte) error {
		c := Call{Req: fmt.Sprintf("%#x", req), In: hex.EncodeToString(arg)}
		err := ioctl(req, arg)
		var en syscall.Errno
		switch {
		case err == nil:
			c.Out = hex.EncodeToString(arg)
		case errors.As(err, &en):
			c.Errno = int(en)
		default:
			return err
		}
		t.Calls = append(t.Calls, c)
		return err
	}
}

// RecordDevice probes the device at path and returns what it answered.
func RecordDevice(path string) (*Transcript, error) {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, explainOpen(path, err)
	}
	defer f.Close()
	t := &Transcript{Path: path}
	if _, err := Probe(path, t.Record(sysIoctl(f.Fd()))); err != nil {
		return nil, err
	}
	return t, nil
}

// LoadTranscript reads a transcript written as JSON.
func LoadTranscript(file string) (*Transcript, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("load transcript: %w", err)
	}
	t := &Transcript{}
	if err := json.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("load transcript %s: %w", file, err)
	}
	return t, nil
}
