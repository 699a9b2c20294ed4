// Package watch notices edits in a plugin's source folder: it polls the folder's files
// (no inotify limits, works on every file system) and reports a change once the files have
// stopped changing for a debounce interval, so one save of several files is one rebuild.
package watch

import (
	"context"
	"hash/fnv"
	"io/fs"
	"path/filepath"
	"strings"
	"time"
)

// Options tune Watch.
type Options struct {
	// Interval between polls (default 100 ms).
	Interval time.Duration
	// Debounce is how long the files must stay unchanged before a change is reported
	// (default 150 ms: an editor's save of several files lands well within it).
	Debounce time.Duration
}

// skipDir reports folders that hold build outputs or tool state, not sources.
func skipDir(name string) bool {
	switch name {
	case "build", "target", "node_modules", "CMakeFiles", "zig-out":
		return true
	}
	return strings.HasPrefix(name, ".") && name != "."
}

// Fingerprint summarizes the names, sizes and modification times of the source files
// under dir.
func Fingerprint(dir string) uint64 {
	h := fnv.New64a()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != dir && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".so") || strings.HasPrefix(d.Name(), ".") || strings.HasSuffix(d.Name(), "~") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		var b [16]byte
		n, m := fi.Size(), fi.ModTime().UnixNano()
		for i := 0; i < 8; i++ {
			b[i], b[8+i] = byte(n>>(8*i)), byte(m>>(8*i))
		}
		h.Write([]byte(p))
		h.Write(b[:])
		return nil
	})
	return h.Sum64()
}

// Watch calls changed(dir) after each settled change under any of dirs until ctx ends.
// changed runs on Watch's goroutine: changes during it are reported after it returns.
func Watch(ctx context.Context, dirs []string, o Options, changed func(dir string)) {
	if o.Interval <= 0 {
		o.Interval = 100 * time.Millisecond
	}
	if o.Debounce <= 0 {
		o.Debounce = 150 * time.Millisecond
	}
	type state struct {
		seen    uint64 // fingerprint last built
		cur     uint64 // fingerprint last polled
		changed time.Time
	}
	states := make([]state, len(dirs))
	for i, d := range dirs {
		f := Fingerprint(d)
		states[i] = state{seen: f, cur: f}
	}
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for i, d := range dirs {
			st := &states[i]
			f := Fingerprint(d)
			now := time.Now()
			if f != st.cur {
				st.cur, st.changed = f, now
				continue
			}
			if f != st.seen && now.Sub(st.changed) >= o.Debounce {
				st.seen = f
				changed(d)
			}
		}
	}
}
