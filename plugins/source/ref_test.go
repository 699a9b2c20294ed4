package source

import (
	"errors"
	"testing"
)

// TestCheckRef: branch, tag and commit names pass; refs git would refuse, HEAD, full ref
// names and paths that climb out of refs/ are refused with ErrBadRef.
func TestCheckRef(t *testing.T) {
	for _, ok := range []string{"", "main", "v1.0.0", "feature/x", "release-1.2", "16e36ac", "16e36acd7713c144b3a6581377cd26687cddedca"} {
		if err := CheckRef(ok); err != nil {
			t.Errorf("CheckRef(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"../../HEAD", "..", "HEAD", "refs/heads/main", "-upload-pack=x", "a..b", ".hidden", "x/.y",
		"main.lock", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", `a\b`, "a@{1}", "@", "x/", "/x", "a//b", "x.", "a\x01b"} {
		if err := CheckRef(bad); !errors.Is(err, ErrBadRef) {
			t.Errorf("CheckRef(%q) = %v, want ErrBadRef", bad, err)
		}
	}
}

// TestCheckRemote: only URLs of remote repositories pass.
func TestCheckRemote(t *testing.T) {
	for _, ok := range []string{"https://github.com/o/r", "git+https://h/o/r.git", "ssh://git@h/o/r", "git://h/r", "git@h:o/r.git", "http://h/r"} {
		if err := CheckRemote(ok); err != nil {
			t.Errorf("CheckRemote(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"/srv/r.git", "r.git", "./r", "~/r", "file:///srv/r.git", "https://", "https:///r", "ftp://h/r", ""} {
		if err := CheckRemote(bad); err == nil {
			t.Errorf("CheckRemote(%q) accepted a non-remote source", bad)
		}
	}
}
