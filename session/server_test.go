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
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// echoServer serves "echo" (answers its args) and "set" (decodes SetArgs) on a unix socket and
// returns a connection to it.
func echoServer(t *testing.T) net.Conn {
	t.Helper()
	s := testServer()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	c, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testServer() *Server {
	s := NewServer()
	s.Handle("echo", func(ctx context.Context, raw json.RawMessage) (any, error) { return raw, nil })
	s.Handle(OpSet, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a SetArgs
		if err := DecodeArgs(OpSet, raw, &a); err != nil {
			return nil, err
		}
		return SetResult{Value: a.Value}, nil
	})
	return s
}

// TestOversizedRequest: a 10 MB request line is answered with an error naming the size limit
// (it used to close the connection without a word), and the connection keeps working.
func TestOversizedRequest(t *testing.T) {
	c := echoServer(t)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	big := `{"id":1,"op":"echo","args":{"s":"` + strings.Repeat("x", 10<<20) + `"}}` + "\n"
	wrote := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c, big+`{"id":2,"op":"echo","args":{"s":"small"}}`+"\n")
		wrote <- err
	}()
	br := bufio.NewReader(c)
	var resp [2]Response
	for i := range resp {
		line, err := br.ReadBytes('\n')
		if err != nil {
			t.Fatalf("response %d: %v (the server closed the connection?)", i+1, err)
		}
		if err := json.Unmarshal(line, &resp[i]); err != nil {
			t.Fatalf("response %d %q: %v", i+1, line, err)
		}
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if resp[0].OK || !strings.Contains(resp[0].Error, "request too large") || !strings.Contains(resp[0].Error, fmt.Sprint(maxLine)) || !strings.Contains(resp[0].Error, "limit") {
		t.Errorf("answer to a 10 MB request: %+v", resp[0])
	}
	if !resp[1].OK || resp[1].ID != 2 || string(resp[1].Result) != `{"s":"small"}` {
		t.Errorf("answer to the next request: %+v", resp[1])
	}
}

// TestReadLine: lines up to the limit pass whole (CRLF or LF, the last one without a
// newline too), longer ones are dropped to their end.
func TestReadLine(t *testing.T) {
	in := "abc\r\n" + strings.Repeat("y", 40) + "\n" + strings.Repeat("z", 33) + "\n" + strings.Repeat("w", 32) + "\nlast"
	br := bufio.NewReaderSize(strings.NewReader(in), 16)
	want := []struct {
		line    string
		tooLong bool
	}{{"abc", false}, {"", true}, {"", true}, {strings.Repeat("w", 32), false}, {"last", false}}
	for i, w := range want {
		line, tooLong, err := readLine(br, 32)
		if string(line) != w.line || tooLong != w.tooLong {
			t.Errorf("line %d: %q tooLong=%v, want %q tooLong=%v", i, line, tooLong, w.line, w.tooLong)
		}
		if (i == len(want)-1) != errors.Is(err, io.EOF) {
			t.Errorf("line %d: err %v", i, err)
		}
	}
}

// FuzzRequestDecoding feeds arbitrary bytes to the control protocol's request decoding: the
// line splitter (with a small limit, so overlong lines happen) and the dispatcher. Every
// line must come back as the input had it, every response must encode, and a line that is
// not JSON must get a "bad request" answer.
func FuzzRequestDecoding(f *testing.F) {
	for _, seed := range []string{
		`{"id":7,"op":"set","args":{"stage":0,"key":"color_b","value":"42"}}` + "\n",
		"not json\n",
		`{"id":1,"op":"echo","args":[1,2,3]}` + "\r\n" + `{"op":"set","args":"str"}`,
		`{"id":-1,"op":5}` + "\n\n\n" + `{"id":18446744073709551616}`,
		`{"op":"reload"}` + "\n" + `{"op":"nope","args":null}` + "\n",
		strings.Repeat("x", 100) + "\n" + `{"op":"echo","args":{"s":"\ud800"}}`,
		"{\"op\":\"echo\",\"args\":\"\xff\xfe\"}\n",
	} {
		f.Add([]byte(seed))
	}
	const max = 64
	s := testServer()
	f.Fuzz(func(t *testing.T, data []byte) {
		segs := bytes.Split(data, []byte("\n"))
		if len(segs[len(segs)-1]) == 0 {
			segs = segs[:len(segs)-1] // the input ends with a newline
		}
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		for i, seg := range segs {
			line, tooLong, err := readLine(br, max)
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatalf("line %d: %v", i, err)
			}
			if tooLong != (len(seg) > max) {
				t.Fatalf("line %d (%d bytes): tooLong=%v with a limit of %d", i, len(seg), tooLong, max)
			}
			if !tooLong && !bytes.Equal(line, bytes.TrimSuffix(seg, []byte("\r"))) {
				t.Fatalf("line %d: got %q, want %q", i, line, seg)
			}
			if tooLong || len(line) == 0 {
				continue
			}
			resp := s.dispatch(context.Background(), line)
			if _, err := json.Marshal(resp); err != nil {
				t.Fatalf("response to %q does not encode: %v", line, err)
			}
			if resp.OK == (resp.Error != "") {
				t.Fatalf("response to %q: ok=%v with error %q", line, resp.OK, resp.Error)
			}
			if !json.Valid(line) && !strings.HasPrefix(resp.Error, "bad request") {
				t.Fatalf("invalid JSON %q answered %+v", line, resp)
			}
		}
		if line, tooLong, err := readLine(br, max); len(line) != 0 || tooLong || !errors.Is(err, io.EOF) {
			t.Fatalf("after the last line: %q %v %v", line, tooLong, err)
		}
	})
}
