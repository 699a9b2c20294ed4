package pluginhost

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/scopenative/scope/frame"
	"github.com/scopenative/scope/loader"
)

// The control channel is a SOCK_SEQPACKET socketpair: every message is one JSON packet, so
// no framing is needed, and a packet can carry the descriptor of a shared-memory arena
// (SCM_RIGHTS). The parent sends requests; the child answers each with exactly one reply
// and may send log replies at any time before it.

// maxPacket bounds one control message (a pipeline schema is the largest: a few KiB).
const maxPacket = 1 << 20

// Request operations.
const (
	reqCreate  = "create"
	reqPrepare = "prepare"
	reqCall    = "call"
	reqMap     = "map"
)

// request is one message from the parent.
type request struct {
	Op string `json:"op"`

	// create
	Mode   loader.Mode   `json:"mode,omitempty"`
	Values loader.Values `json:"values,omitempty"` // create; prepare and call when changed
	CUDA   int           `json:"cuda,omitempty"`

	// prepare
	Inputs []frame.Format `json:"inputs,omitempty"`
	Memory uint32         `json:"memory,omitempty"`

	// map: the arena's id (0: the instance's scratch arena, else a Frames buffer) and
	// size; its descriptor rides along
	ID   uint64 `json:"id,omitempty"`
	Size int    `json:"size,omitempty"`

	// call
	Ports   [][]slot        `json:"ports,omitempty"`
	Output  *slot           `json:"output,omitempty"`
	Prompts []loader.Prompt `json:"prompts,omitempty"`
	Audio   *audioSlot      `json:"audio,omitempty"`
	TS      int64           `json:"ts,omitempty"`
}

// slot is a frame inside the arena.
type slot struct {
	Arena  uint64       `json:"arena,omitempty"` // 0: the scratch arena
	Off    int          `json:"off"`
	Pitch  int          `json:"pitch"`
	Format frame.Format `json:"format"`
	Index  uint64       `json:"index,omitempty"`
	PTS    int64        `json:"pts,omitempty"` // nanoseconds
}

// need is how many bytes of the arena the frame spans.
func (s slot) need() int { return s.Pitch*(s.Format.Height-1) + s.Format.RowBytes() }

// audioSlot is the interleaved stereo float buffer inside the arena.
type audioSlot struct {
	Off    int `json:"off"`
	Floats int `json:"floats"`
}

// Reply kinds.
const (
	repHello = "hello"
	repLog   = "log"
	repOK    = "ok"
	repError = "error"
)

// reply is one message from the child.
type reply struct {
	Kind string `json:"kind"`

	// hello
	Library  string           `json:"library,omitempty"`
	Pipeline *loader.Pipeline `json:"pipeline,omitempty"`

	// log
	Log string `json:"log,omitempty"`

	// error: a plugin's error status (Plugin), or the child's own refusal (Text)
	Plugin *loader.PluginError `json:"plugin,omitempty"`
	Text   string              `json:"text,omitempty"`

	// ok
	Req   *loader.Requirements `json:"req,omitempty"`
	Audio *audioResult         `json:"audio,omitempty"`
}

// audioResult is what a call wrote into the audio buffer.
type audioResult struct {
	SampleRate, Channels, Frames int
}

// err turns an error reply into an error.
func (r *reply) err() error {
	if r.Plugin != nil {
		return r.Plugin
	}
	return errors.New(r.Text)
}

// socketpair returns the two ends of a new SOCK_SEQPACKET socketpair, close-on-exec.
func socketpair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("control socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "pluginhost-parent"), os.NewFile(uintptr(fds[1]), "pluginhost-child"), nil
}

// channel is one end of the control socket.
type channel struct {
	c   *net.UnixConn
	buf []byte
	oob []byte
}

// newChannel wraps a socket file (which it takes over).
func newChannel(f *os.File) (*channel, error) {
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("control socket: %T is not a unix socket", c)
	}
	return &channel{c: uc, buf: make([]byte, maxPacket), oob: make([]byte, unix.CmsgSpace(4))}, nil
}

// send writes one message, with fd (when >= 0) attached.
func (ch *channel) send(v any, fd int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	_, _, err = ch.c.WriteMsgUnix(b, oob, nil)
	return err
}

// recv reads one message into v before the deadline (zero: none) and returns the descriptor
// that came with it, or -1. io.EOF means the other end has gone.
func (ch *channel) recv(v any, deadline time.Time) (int, error) {
	if err := ch.c.SetReadDeadline(deadline); err != nil {
		return -1, err
	}
	n, oobn, _, _, err := ch.c.ReadMsgUnix(ch.buf, ch.oob)
	if err != nil {
		return -1, err
	}
	fd := -1
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(ch.oob[:oobn])
		if err == nil {
			for _, m := range msgs {
				if fds, err := unix.ParseUnixRights(&m); err == nil {
					for _, f := range fds {
						if fd < 0 {
							fd = f
						} else {
							syscall.Close(f) // only one is ever sent
						}
					}
				}
			}
		}
	}
	if n == 0 {
		if fd >= 0 {
			syscall.Close(fd)
		}
		return -1, errClosed
	}
	if err := json.Unmarshal(ch.buf[:n], v); err != nil {
		if fd >= 0 {
			syscall.Close(fd)
		}
		return -1, fmt.Errorf("bad control message: %w", err)
	}
	return fd, nil
}

// errClosed is a zero-length read: the other end closed the socket.
var errClosed = errors.New("control socket closed")

func (ch *channel) close() error { return ch.c.Close() }
