//go:build cgo

package render

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/scopenative/scope/session"
)

// pkey names one parameter of one stage.
type pkey struct {
	stage int
	key   string
}

// control runs a session's operations: a session.Client on the control socket, or an
// apiclient.Control over HTTP (scope-preview --url); both answer the session's errors as a
// *session.RemoteError.
type control interface {
	Call(ctx context.Context, op string, req, resp any) error
	Close() error
}

// remote talks to the session from its own goroutine, so the window never waits on the
// socket: parameter changes are coalesced (the newest value per key wins), stats are polled.
type remote struct {
	info  session.Info
	dial  func() (control, error)
	alive func() bool // whether the session may still exist after a failed call

	mu      sync.Mutex
	state   session.InfoResult
	have    bool   // state holds at least one answer
	gen     uint64 // counts the answers (the panel redraws when it changes)
	ended   bool   // the session is gone
	pending map[pkey]string
	order   []pkey
	ops     []func(context.Context, control) error
	msgs    []string // status messages for the window
	refresh bool

	wake chan struct{}
}

// newRemote returns the remote of a session on this machine (its control socket).
func newRemote(info session.Info) *remote {
	dial := func() (control, error) { return session.DialInfo(info) }
	return &remote{info: info, dial: dial, alive: func() bool { return pidAlive(info.PID) },
		pending: map[pkey]string{}, wake: make(chan struct{}, 1)}
}

func (r *remote) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// set queues a parameter change (coalesced with earlier unsent changes of the same key).
func (r *remote) set(stage int, key, value string) {
	r.mu.Lock()
	k := pkey{stage, key}
	if _, ok := r.pending[k]; !ok {
		r.order = append(r.order, k)
	}
	r.pending[k] = value
	r.mu.Unlock()
	r.poke()
}

// do queues an operation.
func (r *remote) do(op func(context.Context, control) error) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	r.poke()
}

// message adds a status line for the window.
func (r *remote) message(format string, args ...any) {
	r.mu.Lock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// snapshot returns the latest state, its generation and takes the queued messages.
func (r *remote) snapshot() (session.InfoResult, uint64, bool, bool, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs := r.msgs
	r.msgs = nil
	return r.state, r.gen, r.have, r.ended, msgs
}

// run serves the queue and polls info every interval until ctx ends.
func (r *remote) run(ctx context.Context, interval time.Duration) {
	var c control
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	poll := true
	for {
		if c == nil && !r.isEnded() {
			var err error
			c, err = r.dial()
			if err != nil {
				c = nil
				if !r.alive() {
					r.setEnded()
				}
			}
		}
		if c != nil {
			if err := r.flush(ctx, c, poll); err != nil {
				c.Close()
				c = nil
				if !r.alive() {
					r.setEnded()
				}
			}
		}
		poll = false
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-tick.C:
			poll = true
		}
	}
}

func (r *remote) isEnded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ended
}

func (r *remote) setEnded() {
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
}

// flush sends queued changes and operations, then (when asked or after changes) polls info.
// A connection error is returned; errors the session answers become status messages.
func (r *remote) flush(ctx context.Context, c control, poll bool) error {
	r.mu.Lock()
	order, pending, ops := r.order, r.pending, r.ops
	r.order, r.pending, r.ops = nil, map[pkey]string{}, nil
	r.mu.Unlock()
	var remoteErr *session.RemoteError
	for _, k := range order {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := c.Call(cctx, session.OpSet, session.SetArgs{Stage: k.stage, Key: k.key, Value: pending[k]}, nil)
		cancel()
		if errors.As(err, &remoteErr) {
			r.message("%v", err)
		} else if err != nil {
			return err
		}
		poll = true
	}
	for _, op := range ops {
		// An operation may rebuild a plugin (R), which takes as long as its build.
		cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		err := op(cctx, c)
		cancel()
		if errors.As(err, &remoteErr) {
			r.message("%v", err)
		} else if err != nil {
			return err
		}
		poll = true
	}
	if !poll {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	var st session.InfoResult
	err := c.Call(cctx, session.OpInfo, nil, &st)
	cancel()
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.state, r.have = st, true
	r.gen++
	r.mu.Unlock()
	return nil
}

// pidAlive reports whether a process exists.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
