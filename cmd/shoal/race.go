//go:build race

package main

// raceEnabled says the binary was built with the race detector: the server
// then asks for no huge pages (see hugepages.go), and the tests build the
// binary they run with the race detector too.
const raceEnabled = true
