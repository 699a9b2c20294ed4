package command

import "github.com/urfave/cli/v3"

// pluginCommand is `scope plugin`: commands that check and manage plugin files. It only
// groups them; each subcommand lives in its own file (validate.go, ...) and is appended to
// Commands below.
func (a *app) pluginCommand() *cli.Command {
	return &cli.Command{
		Name:  "plugin",
		Usage: "check and manage plugin libraries",
		Commands: append([]*cli.Command{
			a.pluginValidateCommand(),
			a.pluginNewCommand(),
			a.pluginHostCommand(),
		}, a.pluginManageCommands()...), // install, list, update, uninstall, reload

	}
}
