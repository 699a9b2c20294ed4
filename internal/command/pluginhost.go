package command

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/pluginhost"
)

// pluginHostCommand is the hidden `scope plugin host --child`: the plugin host child that
// runs one isolated pipeline instance for a parent scope (see package pluginhost).
func (a *app) pluginHostCommand() *cli.Command {
	return &cli.Command{
		Name:      "host",
		Hidden:    true,
		Usage:     "run one isolated pipeline instance for a parent scope (internal)",
		ArgsUsage: "PLUGIN PIPELINE",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "child", Usage: "required: this command only runs as a child of scope"}},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if !cmd.Bool("child") {
				return usagef("plugin host is internal: scope starts it for nodes that run isolated (see docs/isolation.md)")
			}
			if code := pluginhost.ServeChild(ctx, cmd.Args().Slice()); code != 0 {
				return usagef("plugin host --child: exit %d", code)
			}
			return nil
		},
	}
}
