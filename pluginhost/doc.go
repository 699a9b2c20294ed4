// Package pluginhost runs a pipeline instance in a plugin host child process, so that a
// plugin that crashes, hangs or leaks takes down only its child, never the scope process.
//
// # Process model
//
// The child is the scope binary itself, re-executed the way the validator re-executes it:
// Options.ChildCommand (by default os.Executable() and DefaultChildArgs, the hidden
// `scope plugin host --child` command) plus the plugin file and the pipeline id, which the
// program hands to ServeChild. A test binary dispatches to ServeChild from TestMain. The
// child loads the library with the loader (private copy, ABI check, descriptor validation:
// exactly as in process), reports the pipeline's schema, and serves one instance.
//
// There is one child per instance (per graph node), not one per library: a crash then
// costs only the node that crashed, and a restart replays one instance's create and
// prepare. The price is memory: every child is one more Go runtime and one more copy of the
// library's code and globals (13.7 MiB resident for the invert example, 2 MiB of it its own), and two
// nodes of one library share no state in the child, which the ABI does not promise anyway.
//
// # Frames and control
//
// Control goes over a SOCK_SEQPACKET socketpair on the child's descriptor 3: one JSON
// message per packet (create, prepare, call; parameters only when they changed; the
// plugin's log lines come back the same way). Frames live in an arena the parent
// allocates: an anonymous memfd, sealed against shrinking and growing before its descriptor
// is passed (SCM_RIGHTS), so it has no name another user could open and the child cannot
// make the parent's mapping fault. Frames allocated from a Frames allocator (scope run
// allocates every frame of a run with isolated nodes that way) are passed as they are: the
// child maps each buffer once and calls the plugin with frames pointing into it, no copy.
// Other frames are copied into a per-child scratch arena and the output back out of it.
//
// # Faults
//
// Every round trip has a deadline (Options.CallDeadline for calls, a few frame intervals;
// Options.SetupDeadline for the start, create and prepare). A child that dies (a signal,
// or the Go runtime's report of one caught in plugin code), exits, misses a deadline, or
// whose resident memory passes Options.MemoryLimit after a call is killed with its whole
// process group; the call returns a *FaultError whose Event names the plugin file, the
// pipeline, the call and frame, the signal, exit status, deadline or memory, and the
// plugin's last log lines. A new child is then started in the background, created with the
// same mode and load-time parameters and the current runtime parameters, and prepared as
// the last Prepare was; until it is in place Call and Prepare return ErrRestarting at once,
// so the caller's frame loop never waits for a restart. Options.MaxFaults faults within
// Options.FaultWindow disable the instance (ErrDisabled). Children die with the parent
// (PR_SET_PDEATHSIG) and Close waits for a restart in progress, so none is left behind.
package pluginhost
