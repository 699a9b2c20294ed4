package command

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/scopenative/scope/catalog"
	"github.com/scopenative/scope/plugins/store"
)

// hiddenNote explains that installed plugin p does not run because its pipeline id comes
// from path, a library found earlier on the search path (--plugin, then SCOPE_PLUGIN_PATH,
// then the installed plugins): which file wins, why, and how to use the installed one.
func (a *app) hiddenNote(cmd *cli.Command, p store.Plugin, id, path string) string {
	note := func(why, fix string) string {
		return fmt.Sprintf("installed plugin %s (%s) is hidden: pipeline %s comes from %s, because %s; %s", p.Name, describeSource(&p), id, path, why, fix)
	}
	under := func(entry string) bool {
		entry, file := filepath.Clean(entry), filepath.Clean(path)
		return file == entry || strings.HasPrefix(file, entry+string(filepath.Separator))
	}
	for _, f := range cmd.StringSlice("plugin") {
		if under(f) {
			return note("--plugin "+f+" comes before the installed plugins", "drop --plugin "+f+" to run the installed one")
		}
	}
	for _, e := range strings.Split(a.io.Env(catalog.EnvPath), ":") {
		if e = strings.TrimSpace(e); e != "" && under(e) {
			return note(fmt.Sprintf("%s lists %s, and %s comes before the installed plugins", catalog.EnvPath, e, catalog.EnvPath),
				fmt.Sprintf("remove %s from %s (or unset it) to run the installed one", e, catalog.EnvPath))
		}
	}
	return note("it comes earlier on the plugin search path (--plugin, "+catalog.EnvPath+", then the installed plugins)", "uninstall one of the two")
}

// shadowNote is hiddenNote for the first of p's pipelines that cat takes from a library other
// than p's own (lib), or "" when p is not hidden.
func (a *app) shadowNote(cmd *cli.Command, cat *catalog.Catalog, p store.Plugin, lib string) string {
	for _, id := range p.Pipelines {
		pl, err := cat.Pipeline(id)
		if err != nil {
			continue
		}
		if path := pl.Library().Path(); filepath.Clean(path) != filepath.Clean(lib) {
			return a.hiddenNote(cmd, p, id, path)
		}
	}
	return ""
}
