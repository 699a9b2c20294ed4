package command

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/internal/scaffold"
	"github.com/scopenative/scope/loader"
	"github.com/scopenative/scope/plugins/build"
)

// pluginNewCommand is `scope plugin new NAME --lang c|cpp|rust|go [--cuda]`: it writes a plugin
// project that builds with its language's tool against this scope's SDK.
func (a *app) pluginNewCommand() *cli.Command {
	return &cli.Command{
		Name:      "new",
		Usage:     "create a plugin project (C, C++, Rust or Go) that builds against this scope's SDK",
		ArgsUsage: "NAME",
		Description: "Writes NAME/ with a scope-plugin.toml manifest, the build file of the language (CMakeLists.txt,\n" +
			"Cargo.toml or go.mod), one video pipeline with id NAME and one parameter, amount, and a README.\n" +
			"The build files point at the SDK of this scope (include/scope/plugin.h, cmake/, sdk/), found\n" +
			"above its bin/ or in " + build.EnvSDK + ": no copy of the Scope repository is needed. NAME is the\n" +
			"pipeline id, the library name and the package name: lowercase letters, digits, '-' and '_'.\n\n" +
			"  $ scope plugin new my-plugin --lang rust && cd my-plugin && cargo build --release\n" +
			"  $ scope plugin new my-filter --lang cpp --cuda     # + a .cu kernel, built where nvcc exists\n" +
			"  $ scope plugin install ./my-plugin                 # then: scope run my-plugin --preview",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "lang", Aliases: []string{"l"}, Usage: "the plugin's language: " + strings.Join(scaffold.Langs, ", ")},
			&cli.BoolFlag{Name: "cuda", Usage: "add a CUDA kernel skeleton, compiled only where CMake finds nvcc (C and C++)"},
			&cli.StringFlag{Name: "dir", Usage: "create the project in `DIR` (default: ./NAME)"},
		},
		Action: a.pluginNew,
	}
}

func (a *app) pluginNew(_ context.Context, cmd *cli.Command) error {
	if cmd.NArg() != 1 {
		return usagef("plugin new needs exactly one argument, the plugin's name (got %d); e.g. scope plugin new my-plugin --lang c", cmd.NArg())
	}
	name := cmd.Args().First()
	if err := scaffold.ValidateName(name); err != nil {
		return usageError{err}
	}
	lang := strings.ToLower(cmd.String("lang"))
	if lang == "c++" {
		lang = scaffold.CPP
	}
	if err := scaffold.ValidateLang(lang, cmd.Bool("cuda")); err != nil {
		return usageError{err}
	}
	opts := scaffold.Options{Name: name, Lang: lang, CUDA: cmd.Bool("cuda"), ScopeVersion: loader.Version}
	sdk, err := build.FindSDK(a.io.Env)
	if err != nil {
		return fmt.Errorf("plugin new: %w", err)
	}
	if opts.SDKRoot, err = filepath.Abs(sdk.Root); err != nil {
		return fmt.Errorf("plugin new: %w", err)
	}
	dir := cmd.String("dir")
	if dir == "" {
		dir = name
	}
	files, err := scaffold.Write(dir, opts)
	if err != nil {
		return fmt.Errorf("plugin new: %w", err)
	}
	out := a.io.Out
	fmt.Fprintf(out, "created %s (%s plugin %q, SDK %s):\n", dir, lang, name, opts.SDKRoot)
	for _, f := range files {
		fmt.Fprintf(out, "  %s\n", f)
	}
	lib := scaffold.LibraryPath(name, lang)
	fmt.Fprintf(out, "\nnext:\n  cd %s\n  %s\n", dir, scaffold.BuildCommand(name, lang))
	fmt.Fprintf(out, "  scope run %s --plugin %s --input testsrc --frames 1 --output out.png --param amount=0.8\n", name, lib)
	fmt.Fprintf(out, "  scope run %s --plugin %s --preview\n", name, lib)
	fmt.Fprintf(out, "  scope plugin install ./   # linked; then scope plugin reload %s after each edit\n", name)
	return nil
}
