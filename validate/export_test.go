package validate

// RaceDetector tells the tests whether the memory-growth check can run (not under -race).
const RaceDetector = raceDetector
