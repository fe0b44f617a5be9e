// Package apitest guards the public API: it dumps every exported
// declaration of the public packages into testdata/api.golden, so that each
// addition or change shows up in review. Refresh the file with
//
//	go test ./internal/apitest -update
package apitest

import (
	"bytes"
	"flag"
	"fmt"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/api.golden")

// publicPackages are the directories, from the module root, whose API is
// promised to users.
var publicPackages = []string{"mask", "frame", "handshake", "conn", "server", "client", "wsjson", "netconn"}

func TestAPI(t *testing.T) {
	var out bytes.Buffer
	for _, dir := range publicPackages {
		path := filepath.Join("..", "..", dir)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if err := dump(&out, path, dir); err != nil {
			t.Fatal(err)
		}
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

// dump writes the exported declarations of the package in dir, one per
// line group, sorted, without comments or bodies.
func dump(w *bytes.Buffer, dir, name string) error {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		return err
	}
	var lines []string
	for _, pkg := range pkgs {
		d := doc.New(pkg, name, 0)
		add := func(node any) {
			var b bytes.Buffer
			printer.Fprint(&b, fset, node)
			lines = append(lines, b.String())
		}
		for _, v := range append(d.Consts, d.Vars...) {
			add(v.Decl)
		}
		for _, f := range d.Funcs {
			f.Decl.Body = nil
			add(f.Decl)
		}
		for _, t := range d.Types {
			add(t.Decl)
			for _, v := range append(t.Consts, t.Vars...) {
				add(v.Decl)
			}
			for _, f := range append(t.Funcs, t.Methods...) {
				f.Decl.Body = nil
				add(f.Decl)
			}
		}
	}
	sort.Strings(lines)
	fmt.Fprintf(w, "package %s\n", name)
	for _, l := range lines {
		fmt.Fprintf(w, "\t%s\n", strings.ReplaceAll(l, "\n", "\n\t"))
	}
	return nil
}
