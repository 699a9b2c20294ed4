//go:build !race

package validate

// raceDetector is true in binaries built with -race (see race.go).
const raceDetector = false
