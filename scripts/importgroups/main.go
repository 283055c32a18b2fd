// Command importgroups checks the import blocks of Go files: standard
// library imports come first, in groups of their own, and no group mixes
// standard library and module imports (the layout goimports writes).
// gofmt sorts within a group but cannot see a module import placed in the
// standard library's group; this check can.
//
// Usage: go run ./scripts/importgroups FILE...
//
// It prints one line per misplaced import and exits 1 when there is any.
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
)

func main() {
	bad := 0
	for _, name := range os.Args[1:] {
		n, err := check(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		bad += n
	}
	if bad > 0 {
		fmt.Fprintf(os.Stderr, "%d misplaced import(s): put standard library imports first, in their own group, then a blank line, then module imports\n", bad)
		os.Exit(1)
	}
}

// check reports the misplaced imports of one file and returns their count.
func check(name string) (int, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return 0, err
	}
	bad := 0
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT || !gd.Lparen.IsValid() {
			continue
		}
		for _, g := range groups(fset, gd.Specs) {
			std, mod := 0, 0
			for _, s := range g {
				if isStd(path(s)) {
					std++
				} else {
					mod++
				}
			}
			if std > 0 && mod > 0 {
				for _, s := range g {
					if !isStd(path(s)) {
						fmt.Printf("%s: %q is in a group with standard library imports\n", fset.Position(s.Pos()), path(s))
						bad++
					}
				}
			}
		}
		// Standard library groups before module groups.
		seenMod := false
		for _, g := range groups(fset, gd.Specs) {
			if isStd(path(g[0])) {
				if seenMod {
					fmt.Printf("%s: standard library group after module imports\n", fset.Position(g[0].Pos()))
					bad++
				}
			} else {
				seenMod = true
			}
		}
	}
	return bad, nil
}

// groups splits specs at blank lines (a gap of more than one line).
func groups(fset *token.FileSet, specs []ast.Spec) [][]*ast.ImportSpec {
	var out [][]*ast.ImportSpec
	last := -1
	for _, sp := range specs {
		s := sp.(*ast.ImportSpec)
		start := s.Pos()
		if s.Doc != nil {
			start = s.Doc.Pos()
		}
		line := fset.Position(start).Line
		if last < 0 || line > last+1 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], s)
		last = fset.Position(s.End()).Line
		if s.Comment != nil {
			last = fset.Position(s.Comment.End()).Line
		}
	}
	return out
}

func path(s *ast.ImportSpec) string {
	p, err := strconv.Unquote(s.Path.Value)
	if err != nil {
		return s.Path.Value
	}
	return p
}

// isStd reports whether p is a standard library path: its first element has
// no dot (as the go command decides; "C" is cgo's pseudo-package).
func isStd(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}
