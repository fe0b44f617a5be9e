package wasmtest

import (
	"os"
	"os/exec"
	"testing"
)

// jsPackages are the packages that build for GOOS=js GOARCH=wasm.
var jsPackages = []string{
	"github.com/rfc6455/websocket/conn",
	"github.com/rfc6455/websocket/client",
	"github.com/rfc6455/websocket/wsjson",
	"github.com/rfc6455/websocket/internal/jsws",
	"github.com/rfc6455/websocket/internal/wasmtest/browser",
}

// TestJSBuild vets the browser build: the packages, their tests, and the
// browser test program compile for GOOS=js GOARCH=wasm.
func TestJSBuild(t *testing.T) {
	cmd := exec.Command("go", append([]string{"vet"}, jsPackages...)...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go vet: %v\n%s", err, out)
	}
}
