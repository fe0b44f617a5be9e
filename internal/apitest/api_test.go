// Package apitest guards the public API: it dumps every exported
// declaration of the public packages into testdata/api.golden, so that each
// addition or change shows up in review, and it holds the number of
// exported identifiers per package to a budget. Refresh the golden file
// with
//
//	go test ./internal/apitest -update
//
// and see the counts with
//
//	go test ./internal/apitest -run Count -v
package apitest

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/api.golden")

// everyday are the packages an application imports; lowLevel are the
// layers under them, for event-loop and proxy authors. Their exported
// identifiers (types, functions, methods, constants and variables; struct
// fields are not counted) are held to the budgets below, so that the API
// stays small enough to hold in one's head.
//
// addOns are packages built on the everyday ones that an application may
// take or leave (a reconnecting client, the event-loop server); their API
// is in the golden file too, each package under a budget of its own,
// since each is taken or left on its own.
var (
	everyday = []string{"conn", "server", "client", "wsjson"}
	lowLevel = []string{"frame", "handshake", "mask"}
	addOns   = []string{"reconnect", "eventloop"}
)

const (
	everydayBudget = 80
	totalBudget    = 141
	addOnBudget    = 20 // per add-on package; 140 until conn.Stats (type and method); see the commit raising it
)

// load parses the package in dir, from the module root, without its tests
// and with only the files the default build for this platform compiles:
// the native API, not the GOOS=js one beside it (see TestJSAPI).
func load(t *testing.T, dir string) (*token.FileSet, *doc.Package) {
	t.Helper()
	return loadFor(t, &build.Default, dir)
}

// loadFor is load for the build that ctxt describes.
func loadFor(t *testing.T, ctxt *build.Context, dir string) (*token.FileSet, *doc.Package) {
	t.Helper()
	path := filepath.Join("..", "..", dir)
	entries, err := os.ReadDir(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if ok, err := ctxt.MatchFile(path, name); err != nil {
			t.Fatal(err)
		} else if !ok {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(path, name), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	d, err := doc.NewFromFiles(fset, files, "github.com/rfc6455/websocket/"+dir)
	if err != nil {
		t.Fatal(err)
	}
	return fset, d
}

func TestAPI(t *testing.T) {
	var out bytes.Buffer
	for _, dir := range append(append(append([]string{}, lowLevel...), everyday...), addOns...) {
		fset, d := load(t, dir)
		dump(&out, fset, d)
	}
	golden := filepath.Join("testdata", "api.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/apitest -update)", err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("public API changed; if that is intended, run go test ./internal/apitest -update (-golden +now):\n%s", diff)
	}
}

// jsDifferences are the lines of the API dump by which the GOOS=js
// GOARCH=wasm build of a package may differ from the native one ("-" for
// native only, "+" for js only). The browser build has the same API.
var jsDifferences = map[string][]string{
	"conn":   nil,
	"client": nil,
	"wsjson": nil,
}

// TestJSAPI checks that the exported API of the browser build (GOOS=js
// GOARCH=wasm, where conn.Conn and client.Dial run over the browser's
// WebSocket object) is the native one, apart from jsDifferences, so the
// two cannot drift apart.
func TestJSAPI(t *testing.T) {
	js := build.Default
	js.GOOS, js.GOARCH = "js", "wasm"
	for _, dir := range slices.Sorted(maps.Keys(jsDifferences)) {
		var native, browser bytes.Buffer
		fset, d := load(t, dir)
		dump(&native, fset, d)
		fset, d = loadFor(t, &js, dir)
		dump(&browser, fset, d)
		var got []string
		nativeLines := strings.Split(native.String(), "\n")
		browserLines := strings.Split(browser.String(), "\n")
		for _, l := range nativeLines {
			if !slices.Contains(browserLines, l) {
				got = append(got, "-"+strings.TrimSpace(l))
			}
		}
		for _, l := range browserLines {
			if !slices.Contains(nativeLines, l) {
				got = append(got, "+"+strings.TrimSpace(l))
			}
		}
		if diff := cmp.Diff(jsDifferences[dir], got); diff != "" {
			t.Errorf("package %s: the js/wasm API differs from the native one other than jsDifferences lists (-listed +now):\n%s", dir, diff)
		}
	}
}

// dump writes the exported declarations of d, sorted, without comments
// or bodies.
func dump(w *bytes.Buffer, fset *token.FileSet, d *doc.Package) {
	var lines []string
	add := func(node any) {
		var b bytes.Buffer
		printer.Fprint(&b, fset, node)
		lines = append(lines, b.String())
	}
	addFunc := func(f *doc.Func) {
		f.Decl.Body = nil
		f.Decl.Doc = nil
		add(f.Decl)
	}
	for _, v := range append(d.Consts, d.Vars...) {
		add(stripDocs(v.Decl))
	}
	for _, f := range d.Funcs {
		addFunc(f)
	}
	for _, t := range d.Types {
		add(stripDocs(t.Decl))
		for _, v := range append(t.Consts, t.Vars...) {
			add(stripDocs(v.Decl))
		}
		for _, f := range append(t.Funcs, t.Methods...) {
			addFunc(f)
		}
	}
	sort.Strings(lines)
	fmt.Fprintf(w, "package %s\n", d.Name)
	for _, l := range lines {
		fmt.Fprintf(w, "\t%s\n", strings.ReplaceAll(l, "\n", "\n\t"))
	}
}

// stripDocs removes the comments of a declaration and of its specs and
// fields, so that the golden file changes only when the API does.
func stripDocs(decl *ast.GenDecl) *ast.GenDecl {
	decl.Doc = nil
	ast.Inspect(decl, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			n.Doc, n.Comment = nil, nil
		case *ast.TypeSpec:
			n.Doc, n.Comment = nil, nil
		case *ast.Field:
			n.Doc, n.Comment = nil, nil
		}
		return true
	})
	return decl
}

// count returns the number of exported identifiers of d.
func count(d *doc.Package) int {
	values := func(vs []*doc.Value) int {
		n := 0
		for _, v := range vs {
			n += len(v.Names)
		}
		return n
	}
	n := values(d.Consts) + values(d.Vars) + len(d.Funcs)
	for _, t := range d.Types {
		n += 1 + values(t.Consts) + values(t.Vars) + len(t.Funcs) + len(t.Methods)
	}
	return n
}

func TestCount(t *testing.T) {
	sum := func(dirs []string) int {
		total := 0
		for _, dir := range dirs {
			_, d := load(t, dir)
			n := count(d)
			t.Logf("%-10s %3d", dir, n)
			total += n
		}
		return total
	}
	e := sum(everyday)
	l := sum(lowLevel)
	t.Logf("everyday %d, low-level %d, all %d", e, l, e+l)
	if e > everydayBudget {
		t.Errorf("the everyday packages %v export %d identifiers; the budget is %d", everyday, e, everydayBudget)
	}
	if e+l > totalBudget {
		t.Errorf("the public packages export %d identifiers; the budget is %d", e+l, totalBudget)
	}
	for _, dir := range addOns {
		if a := sum([]string{dir}); a > addOnBudget {
			t.Errorf("the add-on package %s exports %d identifiers; the budget is %d", dir, a, addOnBudget)
		}
	}
}

// TestReadmePrograms checks the complete programs in README.md: each
// compiles and passes go vet, and imports at most two packages of this
// module, as the everyday server and client should need.
func TestReadmePrograms(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go vet")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(readme, -1)
	programs := 0
	for i, b := range blocks {
		src := b[1]
		if !bytes.Contains(src, []byte("package main")) {
			continue
		}
		programs++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "main.go", src, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("README program %d: %v", i, err)
		}
		ours := 0
		for _, imp := range f.Imports {
			if strings.HasPrefix(imp.Path.Value, `"github.com/rfc6455/websocket/`) {
				ours++
			}
		}
		if ours > 2 {
			t.Errorf("README program %d imports %d packages of this module, want at most 2", i, ours)
		}
		t.Logf("README program %d imports %d packages of this module", i, ours)
		file := filepath.Join(t.TempDir(), "main.go")
		if err := os.WriteFile(file, src, 0o644); err != nil {
			t.Fatal(err)
		}
		// go vet of a file outside the module compiles it against this module.
		cmd := exec.Command("go", "vet", file)
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("README program %d does not vet: %v\n%s", i, err, out)
		}
	}
	if programs < 2 {
		t.Errorf("README has %d complete programs, want the server and the client", programs)
	}
}
