package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/forge-orm/forge/edge/workers"
	"github.com/forge-orm/forge/wire/jsonx"
)

// buildVercel writes a Vercel Edge Function in the Build Output API
// (version 3) layout under dir/.vercel/output.
func buildVercel(stdout io.Writer, dir, pkg, name string, envVars []string, tags string) error {
	out := filepath.Join(dir, ".vercel", "output")
	fn := filepath.Join(out, "functions", name+".func")
	raw, err := buildWasm(fn, pkg, tags)
	if err != nil {
		return err
	}
	entry := workers.VercelEntryModule()
	if err := os.WriteFile(filepath.Join(fn, "index.mjs"), entry, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(fn, ".vc-config.json"), vcConfig(envVars), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "config.json"), outputConfig(name), 0o644); err != nil {
		return err
	}
	execJS, err := os.ReadFile(filepath.Join(fn, "wasm_exec.js"))
	if err != nil {
		return err
	}
	total := gzipSize(raw) + gzipSize(entry) + gzipSize(execJS)
	fmt.Fprintf(stdout, "forge-worker: built %s into %s as the Vercel Edge Function %q: app.wasm %d bytes (%d gzipped), index.mjs, wasm_exec.js; %d bytes gzipped in all: %s\n",
		pkg, out, name, len(raw), gzipSize(raw), total, fitsCaps(total))
	return nil
}

// fitsCaps says which of Vercel's Edge plans a function of size bytes
// (gzipped) fits.
func fitsCaps(size int) string {
	var fits, over []string
	for _, c := range workers.SizeCaps {
		if c.Platform != "Vercel Edge" {
			continue
		}
		if size <= c.Bytes {
			fits = append(fits, fmt.Sprintf("%s (%d MB)", c.Plan, c.Bytes>>20))
		} else {
			over = append(over, fmt.Sprintf("%s (%d MB)", c.Plan, c.Bytes>>20))
		}
	}
	switch {
	case len(over) == 0:
		return "fits every plan's cap"
	case len(fits) == 0:
		return "over every plan's cap (" + strings.Join(over, ", ") + "): use a Vercel Function on the Node.js runtime"
	}
	return "fits " + strings.Join(fits, ", ") + "; over " + strings.Join(over, ", ")
}

// vcConfig is the function's .vc-config.json.
func vcConfig(envVars []string) []byte {
	b := []byte(`{"runtime":"edge","entrypoint":"index.mjs"`)
	if len(envVars) > 0 {
		b = append(b, `,"envVarsInUse":[`...)
		for i, v := range envVars {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonx.AppendString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// outputConfig is .vercel/output/config.json: a path that names no static
// file (in .vercel/output/static) goes to the function, which routes by
// path itself.
func outputConfig(name string) []byte {
	b := []byte(`{"version":3,"routes":[{"handle":"filesystem"},{"src":"/(.*)","dest":`)
	b = jsonx.AppendString(b, "/"+name)
	return append(b, "}]}\n"...)
}
