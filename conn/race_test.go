//go:build race && !js

package conn

const raceEnabled = true
