// Package fuzz holds fuzz targets that span packages: raw bytes from a
// peer into a Conn, and (with the server package) raw requests into an
// upgrade. Targets for a single parser sit beside that parser, so
// `go test -fuzz=. ./frame` works there.
//
// Run one target for a while with
//
//	go test -run='^$' -fuzz='^FuzzServerConn$' -fuzztime=10m ./fuzz
package fuzz
