//go:build race

package main

// raceEnabled: the test binary runs under the race detector, so the dxf
// binary the tests run is built with it too.
const raceEnabled = true
