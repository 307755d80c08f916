//go:build race

package contain

// raceDetector: this test binary runs under the race detector, several
// times slower; the drills it plays are fewer (see the scenario test).
const raceDetector = true
