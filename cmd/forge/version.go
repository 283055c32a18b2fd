package main

import (
	"runtime/debug"
)

var versionCmd = &command{
	name:    "version",
	summary: "print forge's version",
	usage: `Usage: forge version

Version prints the version of the forge command and of the forge module it
was built with.

Example:
  forge version
`,
}

func init() { versionCmd.run = runVersion }

func runVersion(e *env, args []string) error {
	fs := newFlags(versionCmd)
	pos, err := parseArgs(e, versionCmd, fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(versionCmd, pos); err != nil {
		return err
	}
	cmd, core := "(devel)", "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			cmd = bi.Main.Version
		}
		for _, m := range bi.Deps {
			if m.Path == "github.com/forge-orm/forge" {
				core = m.Version
				if m.Replace != nil {
					core += " => " + m.Replace.Path
				}
			}
		}
	}
	e.printf("forge %s (github.com/forge-orm/forge %s, %s)\n", cmd, core, goVersion())
	return nil
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown Go"
}
