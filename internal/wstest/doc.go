// Package wstest is a Go-native WebSocket conformance suite that replays
// the case catalogue of the Autobahn testsuite (crossbario/autobahn-testsuite,
// "wstest") for sections 1-7, 9, 10, 12 and 13 (all 517 cases), with
// Autobahn's case ids, expectations and verdict rules, inside go test and
// without Docker.
//
// It is a neutral judge: it speaks raw bytes over TCP with its own frame
// writer and reader and its own minimal opening handshake, imports none of
// this module's other packages, and can therefore send what a normal
// implementation never would (wrong RSV bits, reserved opcodes, invalid
// UTF-8 split anywhere, fragmented or oversized control frames, frames
// chopped into 1-octet writes).
//
// The suite has Autobahn's two roles. A [Client] (the fuzzing client)
// tests a server at a ws:// URL, one fresh connection per case. A [Server]
// (the fuzzing server) is an http.Handler that tests clients through the
// same /getCaseCount, /runCase, /getCaseInfo, /getCaseStatus and
// /updateReports endpoints as Autobahn's fuzzingserver. Both judge with
// the same protocol machine, which mirrors Autobahn's (failByDrop off by
// default, 1 s closing handshake and server drop timeouts, the same
// behavior and behaviorClose rules), so verdicts agree with the real
// suite's. [WriteReports] writes index.json and per-case JSON in
// Autobahn's format, and index.md, a readable summary.
//
// [Catalogue] lists the cases; [Select] picks them with Autobahn's
// "cases" and "exclude-cases" patterns. See Catalogue for how the
// sections are built.
//
// Sections 12 and 13 test permessage-deflate (RFC 7692): a thousand
// messages of 16 octets to 128 KiB each, echoed one by one, under the
// seven negotiations of section 13 (context takeover or not, windows of 9
// and 15 bits) in both roles. The suite has its own codec on
// compress/flate, with a check of every back-reference against a window
// below 15 bits, and its own synthetic stand-ins for the five data files
// Autobahn ships. A peer that does not negotiate the extension is
// UNIMPLEMENTED there.
//
// # Concurrency
//
// A Client runs its cases one after another unless Parallel is set; each
// case runs on its own connection and goroutines. A Server serves any
// number of connections at once; its methods are safe for concurrent use.
//
// # Errors
//
// A peer's misbehaviour is never an error: it is a verdict in a [Result].
// Errors report only misuse (a bad URL or pattern) or I/O failures while
// writing reports; a connection or opening handshake that fails is a
// FAILED result whose text says why.
package wstest
