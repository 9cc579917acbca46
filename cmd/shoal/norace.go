//go:build !race

package main

// raceEnabled says the binary was built with the race detector (see
// race.go).
const raceEnabled = false
