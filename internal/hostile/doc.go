// Package hostile holds the catalogue of hostile inputs: table-driven
// tests that throw at a server built from the public API, on both upgrade
// paths, and at a client, what an attacker, a broken peer or a captive
// portal would send, and check the answer to each.
//
// Every row names the input and the answer it must get: an HTTP status,
// or the close code the Conn sends and the kind of error its owner sees,
// or a documented bound. Every row also checks that nothing panicked, that
// the connection was torn down within its bound, that the memory the
// process allocated meanwhile stayed within a stated bound, that no
// goroutine was left behind, and that the healthy connections echoing
// through the whole run were not disturbed.
//
// The package has no code of its own; run it with
//
//	go test ./internal/hostile -v
//
// for the table of what each row cost.
package hostile
