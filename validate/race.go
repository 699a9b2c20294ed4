//go:build race

package validate

// raceDetector is true in binaries built with -race, whose shadow memory grows the resident
// set as the program runs and hides a plugin's own growth.
const raceDetector = true
