package session

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// HandlerFunc runs one operation: req is the request's "args" object (may be empty), the
// result is marshalled as the response's "result".
type HandlerFunc func(ctx context.Context, req json.RawMessage) (any, error)

// maxLine bounds one request line (a prompt or a path fits easily). A longer request is read to
// its end, dropped and answered with an error naming this limit; the connection stays usable.
const maxLine = 1 << 20

// Server answers newline-delimited JSON requests on a listener. Operations are registered with
// Handle; a Host registers the built-in ones (info, set, pause, resume, stop, save-frame). It
// is safe for concurrent use; each connection is served by its own goroutine, one request at
// a time.
type Server struct {
	mu       sync.RWMutex
	handlers map[string]HandlerFunc
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

// NewServer returns a server with no operations.
func NewServer() *Server {
	return &Server{handlers: map[string]HandlerFunc{}, conns: map[net.Conn]struct{}{}}
}

// Handle registers fn for op, replacing any earlier handler: this is how packages outside
// session add operations (the plugin manager adds "reload"). A nil fn removes the op.
func (s *Server) Handle(op string, fn func(ctx context.Context, req json.RawMessage) (any, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fn == nil {
		delete(s.handlers, op)
		return
	}
	s.handlers[op] = fn
}

// Ops lists the registered operations.
func (s *Server) Ops() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ops []string
	for op := range s.handlers {
		ops = append(ops, op)
	}
	return ops
}

// Serve accepts connections until ctx ends or the listener is closed, then closes every
// connection and waits for their goroutines. It returns nil when stopped by ctx or Close.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer func() {
		// Stop reading, but let a request being answered (a "stop", typically) write its
		// response: shutting the read side ends each connection's loop after that write.
		s.mu.Lock()
		for c := range s.conns {
			c.SetWriteDeadline(time.Now().Add(time.Second))
			if cr, ok := c.(interface{ CloseRead() error }); ok && cr.CloseRead() == nil {
				continue
			}
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("session server: accept: %w", err)
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveConn(ctx, c)
	}
}

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriter(c)
	for {
		line, tooLong, err := readLine(br, maxLine)
		if err != nil && !errors.Is(err, io.EOF) {
			return // a broken connection: do not run half a request
		}
		if len(line) == 0 && !tooLong {
			if err != nil {
				return
			}
			continue
		}
		var resp Response
		if tooLong {
			resp = Response{Error: fmt.Sprintf("request too large: more than the %d-byte (%d MiB) limit of one request line; send less per request (a file path instead of the file's content)", maxLine, maxLine>>20)}
		} else {
			resp = s.dispatch(ctx, line)
		}
		b, err := json.Marshal(resp)
		if err != nil {
			b, _ = json.Marshal(Response{ID: resp.ID, Error: "encode result: " + err.Error()})
		}
		w.Write(append(b, '\n'))
		if err := w.Flush(); err != nil {
			return
		}
	}
}

// readLine reads one newline-terminated line (the last one may lack the newline) and returns
// it without the newline or a carriage return before it. A line longer than max bytes (not
// counting the newline) is read to its end without being kept: it returns tooLong and no
// line. err is the read error that ended the line (io.EOF at the end of the input), nil when
// a newline did.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		if !tooLong {
			line = append(line, frag...)
			if len(bytes.TrimSuffix(line, []byte("\n"))) > max {
				tooLong, line = true, nil
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		return line, tooLong, err
	}
}

// dispatch runs one request line and returns its response.
func (s *Server) dispatch(ctx context.Context, line []byte) Response {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return Response{Error: fmt.Sprintf("bad request: %v", err)}
	}
	s.mu.RLock()
	fn := s.handlers[req.Op]
	s.mu.RUnlock()
	if fn == nil {
		if req.Op == OpReload {
			return Response{ID: req.ID, Error: ErrReloadUnavailable}
		}
		return Response{ID: req.ID, Error: fmt.Sprintf("unknown operation %q", req.Op)}
	}
	result, err := fn(ctx, req.Args)
	if err != nil {
		return Response{ID: req.ID, Error: err.Error()}
	}
	resp := Response{ID: req.ID, OK: true}
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			return Response{ID: req.ID, Error: fmt.Sprintf("%s: encode result: %v", req.Op, err)}
		}
		resp.Result = b
	}
	return resp
}

// DecodeArgs unmarshals a request's args into v; empty args leave v as it is.
func DecodeArgs(op string, raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: bad arguments: %w", op, err)
	}
	return nil
}
