package pluginhost

// ScratchBytes is the size of the current child's scratch arena (0: none was needed).
func (in *Instance) ScratchBytes() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cur == nil || in.cur.mem == nil {
		return 0
	}
	return len(in.cur.mem.mem)
}
