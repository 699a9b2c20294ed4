package command

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/urfave/cli/v3"
)

// remotePreviewFlags are the flags of `scope preview URL`.
func remotePreviewFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "session", Usage: "with a URL: the session `ID` on the server (default: the only one, or the one in the URL)"},
		&cli.StringFlag{Name: "token-file", Sources: cli.EnvVars("SCOPE_TOKEN_FILE"), Usage: "with a URL: the server's token `FILE` (copy it from the server; default $SCOPE_TOKEN)"},
		&cli.IntFlag{Name: "quality", Usage: "with a URL: JPEG quality 1-100 of the frames (default the server's, 85)"},
		&cli.BoolFlag{Name: "lossless", Usage: "with a URL: lossless (PNG) frames instead of JPEG"},
	}
}

// isServerURL reports whether a preview argument names a server rather than a session.
func isServerURL(arg string) bool {
	return strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://")
}

// previewRemote is `scope preview URL`: scope-preview attached to a session over HTTP.
func (a *app) previewRemote(ctx context.Context, cmd *cli.Command) error {
	if q := cmd.Int("quality"); q < 0 || q > 100 {
		return usagef("--quality %d: give 1 to 100", q)
	}
	exe, err := findPreview()
	if err != nil {
		return err
	}
	args := []string{"--url", cmd.Args().First(), "--filter", cmd.String("filter")}
	if id := cmd.String("session"); id != "" {
		args = append(args, "--session", id)
	}
	if f := cmd.String("token-file"); f != "" {
		args = append(args, "--token-file", f)
	}
	if q := cmd.Int("quality"); q > 0 {
		args = append(args, "--quality", strconv.Itoa(q))
	}
	if cmd.Bool("lossless") {
		args = append(args, "--lossless")
	}
	c := exec.CommandContext(ctx, exe, args...)
	c.Stdout, c.Stderr = a.io.Out, a.io.Err
	c.Env = previewEnv(a.io.Env)
	if tok := a.io.Env("SCOPE_TOKEN"); tok != "" {
		c.Env = append(c.Env, "SCOPE_TOKEN="+tok)
	}
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s: %w", previewBinary, err)
	}
	return nil
}
