package session

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Client talks to one session's control endpoint. Calls are serialized; it is safe for
// concurrent use.
type Client struct {
	info Info
	mu   sync.Mutex
	conn net.Conn
	rd   *bufio.Reader
	next uint64
}

// Dial connects to the session with this id (or the only one, with "") in the default
// runtime directory.
func Dial(id string) (*Client, error) {
	info, err := Find(id)
	if err != nil {
		return nil, err
	}
	return DialInfo(info)
}

// DialInfo connects to the session described by info.
func DialInfo(info Info) (*Client, error) {
	c, err := net.DialTimeout("unix", info.Socket, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connect to session %s: %w", info.ID, err)
	}
	return &Client{info: info, conn: c, rd: bufio.NewReaderSize(c, 64<<10)}, nil
}

// Session returns the description the client was dialled with.
func (c *Client) Session() Info { return c.info }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// RemoteError is an error the session answered with.
type RemoteError struct {
	Op, Message string
}

func (e *RemoteError) Error() string { return e.Message }

// Call sends op with req as its arguments (nil = none) and decodes the result into resp
// (nil = ignore it). An error the session answers is a *RemoteError. ctx's deadline bounds
// the whole exchange (5 s without one).
func (c *Client) Call(ctx context.Context, op string, req any, resp any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	r := Request{ID: c.next, Op: op}
	if req != nil {
		b, err := json.Marshal(req)
		if err != nil {
			return fmt.Errorf("%s: encode arguments: %w", op, err)
		}
		r.Args = b
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	c.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.conn.Write(append(line, '\n')); err != nil {
		return c.wrap(ctx, op, err)
	}
	for {
		b, err := c.rd.ReadBytes('\n')
		if err != nil {
			return c.wrap(ctx, op, err)
		}
		var res Response
		if err := json.Unmarshal(b, &res); err != nil {
			return fmt.Errorf("%s: bad response from session %s: %w", op, c.info.ID, err)
		}
		if res.ID != r.ID {
			continue // the answer to an earlier call that timed out
		}
		if !res.OK {
			return &RemoteError{Op: op, Message: res.Error}
		}
		if resp != nil && len(res.Result) > 0 {
			if err := json.Unmarshal(res.Result, resp); err != nil {
				return fmt.Errorf("%s: decode result: %w", op, err)
			}
		}
		return nil
	}
}

func (c *Client) wrap(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%s: session %s did not answer in time", op, c.info.ID)
	}
	return fmt.Errorf("%s: session %s: %w", op, c.info.ID, err)
}

// Info returns the chain, each stage's schema and values, and the live stats.
func (c *Client) Info(ctx context.Context) (InfoResult, error) {
	var r InfoResult
	err := c.Call(ctx, OpInfo, nil, &r)
	return r, err
}

// Set changes one runtime parameter of a stage (value as text, as on the command line) and
// returns the value as stored. It reaches the pipeline on the next frame.
func (c *Client) Set(ctx context.Context, stage int, key, value string) (string, error) {
	var r SetResult
	err := c.Call(ctx, OpSet, SetArgs{Stage: stage, Key: key, Value: value}, &r)
	return r.Value, err
}

// SetPrompts replaces the prompts of the stages that take prompts, from the next frame on.
func (c *Client) SetPrompts(ctx context.Context, prompts []Prompt) error {
	return c.Call(ctx, OpPrompts, PromptsArgs{Prompts: prompts}, nil)
}

// Pause pauses the session (no frame is read, called or written until Resume).
func (c *Client) Pause(ctx context.Context) error { return c.Call(ctx, OpPause, nil, nil) }

// Resume resumes a paused session.
func (c *Client) Resume(ctx context.Context) error { return c.Call(ctx, OpResume, nil, nil) }

// Stop ends the session's run.
func (c *Client) Stop(ctx context.Context) error { return c.Call(ctx, OpStop, nil, nil) }

// SaveFrame asks the session to write its newest frame as PNG (path "" = its default name).
func (c *Client) SaveFrame(ctx context.Context, path string) (SaveFrameResult, error) {
	var r SaveFrameResult
	err := c.Call(ctx, OpSaveFrame, SaveFrameArgs{Path: path}, &r)
	return r, err
}

// Reload asks the session to reload the plugin of a stage (answered by the plugin manager's
// handler; sessions without one answer ErrReloadUnavailable).
func (c *Client) Reload(ctx context.Context, stage int, plugin string) error {
	_, err := c.ReloadStage(ctx, stage, plugin)
	return err
}

// ReloadStage is Reload returning the session's answer: what the reload did, in words (a
// linked plugin is rebuilt from its folder first; another library is reloaded as it is).
func (c *Client) ReloadStage(ctx context.Context, stage int, plugin string) (ReloadResult, error) {
	var r ReloadResult
	err := c.Call(ctx, OpReload, ReloadArgs{Stage: stage, Plugin: plugin}, &r)
	return r, err
}
