// Package wasmtest tests the client in the browser: conn.Conn and
// client.Dial built for GOOS=js GOARCH=wasm, running over the browser's
// WebSocket object in headless Chromium against this module's server.
//
// TestJSBuild, which always runs, vets conn, client, wsjson and the test
// program for GOOS=js GOARCH=wasm. TestBrowser builds the program in
// ./browser, serves it with Go's wasm_exec.js and testdata/index.html
// beside a server.Handler, opens the page with testdata/driver.js
// (playwright-core driving /usr/bin/chromium), fails with the program's
// messages, and checks what the server received. It needs Chromium and
// playwright-core; run.sh installs playwright-core in a temporary
// directory and runs it:
//
//	internal/wasmtest/run.sh
package wasmtest
