//go:build race

package main

// raceDetector: this test binary runs under the race detector, several
// times slower; the longest drills play fewer seeds (TestOrgIncidentEndToEnd).
const raceDetector = true
