// Package validate checks a Scope Native plugin library against the ABI contract in
// include/scope/plugin.h, the way clap-validator checks CLAP plugins: it loads the library,
// reads its descriptors, drives every pipeline through odd sizes, padded pitches, guarded
// buffers, parameter extremes and lifecycles in the wrong order, and reports each check as
// passed, warning, failed or skipped, with one line of reason.
//
// # Using it
//
//	rep, err := validate.Run(ctx, "build/plugins/invert.so", validate.Options{})
//	if err != nil {
//		return err // nothing was validated: the file is missing, no child process starts...
//	}
//	rep.WriteText(os.Stderr) // the human report (WriteJSON for machines)
//	if rep.Failed() {
//		return fmt.Errorf("invert.so failed validation: %s", rep.Summary())
//	}
//
// `scope plugin validate` is a thin CLI over Run. A command that installs plugins calls Run
// on the built library before it changes anything, prints the report with WriteText, and
// refuses the plugin when Failed reports true; warnings and skips do not refuse it.
//
// Run's error is only for validation that could not happen; a plugin that does not load or
// misbehaves gives a report with failures and a nil error. Run needs no GPU, display or
// network, and leaves nothing behind but its private copies of the library in the temporary
// folder, which it deletes right after loading them.
//
// # Child processes
//
// A plugin under test may crash or hang, so every check that calls into it runs in a child
// process with a timeout (Options.Timeout, 10 s by default). The child is this same program,
// started with Options.ChildCommand plus two arguments (the check's JSON description and the
// plugin path), which the program must hand to ServeChild:
//
//   - The scope binary does that in its hidden `scope plugin validate --child` command, and
//     the zero Options.ChildCommand runs os.Executable() with DefaultChildArgs, so code in the
//     scope binary (`scope plugin install`) needs to set nothing.
//   - A test binary dispatches from TestMain: either to ServeChild directly, with
//     ChildCommand set to the test binary and a marker argument (see this package's tests),
//     or, for tests of the scope CLI, to command.Main when its arguments start with
//     DefaultChildArgs (see internal/command/validate_test.go), so the default works there too.
//
// The child reports on file descriptor 3, never stdout or stderr, which the plugin may write
// to: before every call into the plugin a progress line ("call (1921x1081 rgb u8)"), every
// line the plugin logs through scope_host.log, and finally the result. When the child dies
// instead, the parent turns its signal (from the exit status, or from the Go runtime's
// "SIGSEGV: segmentation violation" line on stderr: the runtime catches signals raised in
// plugin code and exits with status 2) and the last progress line into the reason:
//
//	crashed with SIGSEGV in call before any prepare (7x3 rgb u8)
//
// A child still running at the timeout is killed with its whole process group:
//
//	hung for 10s in prepare (33x17 rgb u8; strength=10 edge="hard" flag=true)
//
// Options.InProcess runs the checks in the calling process instead: faster, and easier to
// debug, but a crashing plugin kills the caller, and a hung call is abandoned, not stopped.
//
// # Checks
//
// Checks lists every check with what it verifies; --only and Options.Only select them by id.
// Library checks run first, in dependency order (dlopen, then abi-version, then register,
// then register-twice, unknown-extension and descriptor); a check whose prerequisite did not
// pass is skipped with the reason, and so is a check that cannot run because an earlier one
// found the defect (pitch and parallel need deterministic output): one defect fails one
// check. A pipeline that declares SCOPE_PIPELINE_NONDETERMINISTIC (random or time-dependent by
// design) has deterministic and pitch skipped with that reason, and parallel only checks that
// its instances run at once without errors. The descriptor check finds the pipelines; the per-pipeline checks then run for every
// pipeline, mode and memory kind the descriptors declare, Options.Jobs at a time. Checks on
// CUDA memory are skipped with the reason (no CUDA driver, or the loader's lack of CUDA
// frames).
//
// # Big libraries
//
// A bridge library may register thousands of pipelines, each worth a dozen child processes.
// Beyond Options.Sample (DefaultSample) pipelines, the per-pipeline checks run on an evenly
// spaced sample, the first and the last included; and no per-pipeline check starts after
// Options.Budget (DefaultBudget), so Run returns within the budget plus one Timeout. Both say
// so in Report.Notes ("checked a sample of 32 of 10000 pipelines, ...", "the time budget of
// 2m0s ran out: ..."), and Report.Checked counts the pipelines that have results.
// Options.Progress hears about every finished check; `scope plugin validate` turns it into a
// progress line on a terminal (or lines in a log with --progress).
//
// Every frame the checks hand a plugin sits between guard bytes, with the row padding of
// padded pitches filled with the same pattern; inputs are compared byte for byte after each
// call. Every frame keeps the ABI 1.1 guarantees exactly and no more: data an odd multiple of
// SCOPE_FRAME_ALIGNMENT (64), pitches multiples of it (the least one, then padded by 64 and
// 192 bytes); the alignment check compares that with page-aligned data, so a plugin that
// assumes more alignment than promised fails there. Random parameter values come from Options.Seed, so a report can be reproduced.
package validate
