//go:build !race

package contain

const raceDetector = false
