package command_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scopenative/scope/internal/plugintest"
)

// TestDeployFilesUseRealSettings: every SCOPE_ variable the systemd unit and the Dockerfile
// set is one scope reads (a flag of `scope serve`, or a variable of the whole CLI), so the
// examples cannot drift from the flags.
func TestDeployFilesUseRealSettings(t *testing.T) {
	code, help, stderr := scope(t, "", "serve", "--help")
	if code != 0 {
		t.Fatalf("serve --help: %d %s", code, stderr)
	}
	known := []string{"SCOPE_HOME", "SCOPE_PLUGIN_PATH", "SCOPE_SDK_DIR", "SCOPE_BUILD_SANDBOX"}
	for _, m := range regexp.MustCompile(`\[\$(SCOPE_[A-Z_]+)\]`).FindAllStringSubmatch(help, -1) {
		known = append(known, m[1])
	}
	if !slices.Contains(known, "SCOPE_LISTEN") || !slices.Contains(known, "SCOPE_ALLOW_DIRS") {
		t.Fatalf("serve --help lists no environment variables:\n%s", help)
	}
	for _, f := range []string{"scope.service", "Dockerfile"} {
		b, err := os.ReadFile(filepath.Join(plugintest.Root(t), "deploy", f))
		if err != nil {
			t.Fatal(err)
		}
		used := regexp.MustCompile(`\bSCOPE_[A-Z_]+\b`).FindAllString(string(b), -1)
		if len(used) < 3 {
			t.Errorf("deploy/%s sets only %v", f, used)
		}
		for _, v := range used {
			if !slices.Contains(known, v) {
				t.Errorf("deploy/%s sets %s, which scope does not read (known: %s)", f, v, strings.Join(known, " "))
			}
		}
	}
}

// TestContainerBuilds builds deploy/Dockerfile and lists the pipelines inside the image. It
// takes minutes and needs a container tool with a running daemon and the network, so it runs
// only with SCOPE_CONTAINER_TEST=1.
func TestContainerBuilds(t *testing.T) {
	if os.Getenv("SCOPE_CONTAINER_TEST") != "1" {
		t.Skip("SKIP container build: set SCOPE_CONTAINER_TEST=1 to build deploy/Dockerfile (minutes, needs the network)")
	}
	var tool string
	for _, c := range []string{"docker", "podman"} {
		if _, err := exec.LookPath(c); err == nil && exec.Command(c, "info").Run() == nil {
			tool = c
			break
		}
	}
	if tool == "" {
		t.Skip("SKIP container build: no docker or podman with a running daemon")
	}
	root := plugintest.Root(t)
	tag := "scope-test:latest"
	build := exec.Command(tool, "build", "-f", filepath.Join(root, "deploy", "Dockerfile"), "-t", tag, root)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s build: %v\n%s", tool, err, out)
	}
	defer exec.Command(tool, "rmi", tag).Run()
	out, err := exec.Command(tool, "run", "--rm", tag, "pipelines").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "color-generator") || !strings.Contains(string(out), "invert") {
		t.Fatalf("scope pipelines in the image: %v\n%s", err, out)
	}
}
