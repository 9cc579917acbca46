//go:build race

package main

// raceEnabled makes the tests build the binary with the race detector too.
const raceEnabled = true
