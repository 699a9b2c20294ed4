package media

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// CheckOverwrite returns an error naming both specs when writing the sink would overwrite a
// file the source reads: the same path, the same file through another path, a symbolic link or
// a hard link (os.SameFile), or an image of a source sequence that a sink pattern would write
// over. Call it before opening either: sinks truncate their file when they are created, so the
// input would be destroyed before it is read. Specs that name no local file (generated
// sources, null, URLs other than file://) never collide.
func CheckOverwrite(source, sink string) error {
	inputs := sourceFiles(source)
	if len(inputs) == 0 {
		return nil
	}
	outputs := sinkFiles(sink)
	if len(outputs) == 0 {
		return nil
	}
	type key struct{ dev, ino uint64 }
	keyOf := func(fi os.FileInfo) (key, bool) {
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return key{}, false
		}
		return key{uint64(st.Dev), uint64(st.Ino)}, true
	}
	read := map[key]string{}
	var unkeyed []string // files whose identity the platform does not expose: compared pairwise
	var readInfo []os.FileInfo
	for _, name := range inputs {
		fi, err := os.Stat(name)
		if err != nil {
			continue // a file that does not exist cannot be overwritten; opening reports it
		}
		if k, ok := keyOf(fi); ok {
			read[k] = name
		} else {
			unkeyed, readInfo = append(unkeyed, name), append(readInfo, fi)
		}
	}
	for _, out := range outputs {
		fi, err := os.Stat(out)
		if err != nil {
			continue
		}
		in, same := "", false
		if k, ok := keyOf(fi); ok {
			in, same = read[k]
		}
		for i := 0; !same && i < len(readInfo); i++ {
			in, same = unkeyed[i], os.SameFile(fi, readInfo[i])
		}
		if !same {
			continue
		}
		switch {
		case in == source && sink == source:
			return fmt.Errorf("output %s is also the input: writing it would destroy the input while it is read; write to another file", sink)
		case in == source && out == sink:
			return fmt.Errorf("output %s is the same file as the input %s (another path or a link to it): writing it would destroy the input while it is read; write to another file", sink, source)
		case in == source:
			return fmt.Errorf("output %s would overwrite the input %s (%s is the same file); write to another folder or pattern", sink, source, out)
		}
		return fmt.Errorf("output %s would overwrite %s, an image of the input %s; write to another file, folder or pattern", sink, in, source)
	}
	return nil
}

// sourceFiles returns the local files a source spec reads (those that exist now).
func sourceFiles(spec string) []string {
	switch {
	case spec == "", spec == "testsrc", strings.HasPrefix(spec, "testsrc:"), strings.HasPrefix(spec, "solid:"):
		return nil
	case isURL(spec):
		return fileURL(spec)
	}
	return patternOrFile(spec)
}

// sinkFiles returns the existing local files that a sink spec may write.
func sinkFiles(spec string) []string {
	switch {
	case spec == "", spec == "null":
		return nil
	case isURL(spec):
		return fileURL(spec)
	}
	return patternOrFile(spec)
}

// fileURL returns the path of a file:// URL, or nothing for other URLs.
func fileURL(spec string) []string {
	if p, ok := strings.CutPrefix(spec, "file://"); ok && p != "" {
		return []string{p}
	}
	return nil
}

// patternOrFile returns the existing files of a sequence pattern, or the path itself.
func patternOrFile(spec string) []string {
	p, ok, err := parsePattern(spec)
	if err != nil {
		return nil // not a valid spec: opening it reports why
	}
	if !ok {
		return []string{spec}
	}
	nums, err := p.numbers()
	if err != nil {
		return nil
	}
	names := make([]string, len(nums))
	for i, n := range nums {
		names[i] = p.name(n)
	}
	return names
}
