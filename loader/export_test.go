package loader

// OpenHooked is Open with a function that runs with the private copy's path between the copy
// and the dlopen: the window another user would have to swap the file.
func OpenHooked(path string, opts Options, beforeDlopen func(copyPath string)) (*Library, error) {
	return open(path, opts, beforeDlopen)
}
