// Command scope runs real-time video pipelines from native plugins. See 'scope --help'.
package main

import (
	"context"
	"os"

	"github.com/scopenative/scope/internal/command"
)

func main() {
	os.Exit(command.Main(context.Background(), os.Args, command.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
