//go:build race

package engine_test

// raceEnabled is true under -race, whose instrumentation allocates on its own.
const raceEnabled = true
