package validate

// RaceDetector tells the tests whether the memory-growth check can run (not under -race).
const RaceDetector = raceDetector

// QuickIDs are the ids QuickOnly selects, for the test that they name real checks.
const QuickIDs = quickIDs
