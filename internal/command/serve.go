package command

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/gpu"
	"github.com/scopenative/scope/httpapi"
)

// DefaultListen is where `scope serve` listens without --listen: loopback only.
const DefaultListen = "127.0.0.1:8000"

func (a *app) serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "serve sessions, frames, metrics and plugins over HTTP (see docs/http-api.md)",
		Description: "One HTTP server hosts sessions in this process (each one a `scope run`, with its own control\n" +
			"socket, so `scope sessions` and `scope preview` see them too) and answers the HTTP API.\n" +
			"It listens on loopback by default. Beyond loopback a bearer token is required: it is made on\n" +
			"first start and kept (mode 0600) in --token-file. SIGTERM stops the sessions cleanly.\n\n" +
			"  $ scope serve\n" +
			"  $ scope serve --listen 0.0.0.0:8000 --tls-cert cert.pem --tls-key key.pem --allow-dir /srv/media\n" +
			"  $ curl -s localhost:8000/api/v1/sessions -d '{\"chain\":\"color-generator,invert\"}'",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: DefaultListen, Sources: cli.EnvVars("SCOPE_LISTEN"), Usage: "`ADDR` to listen on (host:port); beyond loopback a token is required"},
			&cli.BoolFlag{Name: "require-token", Sources: cli.EnvVars("SCOPE_REQUIRE_TOKEN"), Usage: "require the token on loopback too"},
			&cli.StringFlag{Name: "token-file", Sources: cli.EnvVars("SCOPE_TOKEN_FILE"), Usage: "`FILE` holding the token (default: serve-token in the data folder); made on first start"},
			&cli.StringFlag{Name: "tls-cert", Sources: cli.EnvVars("SCOPE_TLS_CERT"), Usage: "serve HTTPS with this certificate `FILE` (PEM)"},
			&cli.StringFlag{Name: "tls-key", Sources: cli.EnvVars("SCOPE_TLS_KEY"), Usage: "the certificate's key `FILE` (PEM)"},
			&cli.StringSliceFlag{Name: "allow-dir", Sources: cli.EnvVars("SCOPE_ALLOW_DIRS"), Usage: "`DIR` the API may read and write files in: sources, sinks, save-frame, local installs (repeatable; or several joined with ':')"},
			&cli.Int64Flag{Name: "max-body", Value: httpapi.DefaultMaxBody, Sources: cli.EnvVars("SCOPE_MAX_BODY"), Usage: "largest request body in `BYTES`"},
			&cli.BoolFlag{Name: "no-sandbox", Usage: "build installed plugins without the bubblewrap sandbox"},
		},
		Action: a.serve,
	}
}

// isLoopback reports whether a listen address only reaches this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// allowDirs splits each --allow-dir value at ':' (as PATH is split), so one environment
// variable can name several folders.
func allowDirs(vals []string) []string {
	var dirs []string
	for _, v := range vals {
		for _, d := range filepath.SplitList(v) {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// serveToken returns the token in path, making one (mode 0600) if the file does not exist.
func serveToken(path string) (tok string, made bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if tok = strings.TrimSpace(string(b)); len(tok) < 16 {
			return "", false, fmt.Errorf("token file %s holds no token of at least 16 characters; remove it to make a new one", path)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return "", false, fmt.Errorf("token file %s is readable by others (mode %v); chmod 600 %s", path, fi.Mode().Perm(), path)
		}
		return tok, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", false, fmt.Errorf("make token: %w", err)
	}
	tok = hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("make token: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("make token: %w", err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("write token %s: %w", path, err)
	}
	return tok, true, f.Close()
}

// serve is `scope serve`.
func (a *app) serve(ctx context.Context, cmd *cli.Command) error {
	if cmd.NArg() != 0 {
		return usagef("serve takes no arguments (got %q); configure it with flags", cmd.Args().First())
	}
	addr := cmd.String("listen")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return usagef("--listen %q: give host:port, such as 127.0.0.1:8000 or 0.0.0.0:8000", addr)
	}
	cert, key := cmd.String("tls-cert"), cmd.String("tls-key")
	if (cert == "") != (key == "") {
		return usagef("--tls-cert and --tls-key go together: give both")
	}
	var token, tokenFile string
	if !isLoopback(addr) || cmd.Bool("require-token") {
		tokenFile = cmd.String("token-file")
		if tokenFile == "" {
			d := a.dataDir()
			if d == "" {
				return fmt.Errorf("no data folder for the token: set SCOPE_HOME or --token-file")
			}
			tokenFile = filepath.Join(d, "serve-token")
		}
		var made bool
		var err error
		if token, made, err = serveToken(tokenFile); err != nil {
			return err
		}
		if made {
			fmt.Fprintf(a.io.Err, "made a new token in %s (mode 0600)\n", tokenFile)
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hosted := newServedSessions(a, cmd)
	defer hosted.stopAll()
	cfg := httpapi.Config{
		Sessions:  hosted,
		Plugins:   &servedPlugins{a: a, cmd: cmd},
		Token:     token,
		AllowDirs: allowDirs(cmd.StringSlice("allow-dir")),
		MaxBody:   cmd.Int64("max-body"),
	}
	// GPU memory in /metrics where there is a GPU (the first device; the driver counts every
	// process's allocations). Without one the metric is left out.
	if dev, err := gpu.OpenWith(0, a.gpuOptions()); err == nil {
		defer dev.Close()
		cfg.GPUMemory = func() (used, total uint64, ok bool) {
			free, total, err := dev.Memory()
			if err != nil {
				return 0, 0, false
			}
			return total - free, total, true
		}
	}
	api, err := httpapi.New(cfg)
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	// Bodies are small (--max-body): a client that trickles one is cut off. Streams are
	// responses, which no timeout bounds.
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	scheme := "http"
	if cert != "" {
		scheme = "https"
	}
	base := fmt.Sprintf("%s://%s", scheme, ln.Addr())
	fmt.Fprintf(a.io.Out, "serving on %s\n", base)
	if token != "" {
		fmt.Fprintf(a.io.Out, "every request needs the token in %s:\n  curl -H \"Authorization: Bearer $(cat %s)\" %s/api/v1/sessions\n", tokenFile, tokenFile, base)
	}
	errc := make(chan error, 1)
	go func() {
		if cert != "" {
			errc <- srv.ServeTLS(ln, cert, key)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", addr, err)
	case <-ctx.Done():
	}
	fmt.Fprintln(a.io.Err, "stopping: finishing the sessions")
	// Streams never end by themselves: close them after a short grace.
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	srv.Close()
	return hosted.stopAll()
}

// lineWriter calls fn with each line written to it (without the newline or indentation).
type lineWriter struct {
	fn  func(string)
	buf []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		if line := strings.TrimSpace(string(l.buf[:i])); line != "" {
			l.fn(line)
		}
		l.buf = l.buf[i+1:]
	}
}
