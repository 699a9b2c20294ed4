package scope

import (
	"bytes"
	"os"
	"testing"
)

// TestHeaderInSync checks that the SDK's copy of plugin.h (the module must carry its own: a Go
// module cannot reach files outside its directory) equals include/scope/plugin.h of the
// repository. After changing the header, copy it: cp include/scope/plugin.h sdk/go/scope/.
func TestHeaderInSync(t *testing.T) {
	repo, err := os.ReadFile("../../../include/scope/plugin.h")
	if err != nil {
		t.Skipf("not in a checkout of the scope repository: %v", err)
	}
	ours, err := os.ReadFile("plugin.h")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(repo, ours) {
		t.Fatal("sdk/go/scope/plugin.h differs from include/scope/plugin.h: cp include/scope/plugin.h sdk/go/scope/")
	}
}
