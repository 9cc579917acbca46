package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// newRootCommand builds the command tree.
func newRootCommand(env environment) *cobra.Command {
	root := &cobra.Command{
		Use:   "shoal",
		Short: "shoal is a message-streaming server speaking the Apache Iggy protocol",
		Long: `shoal is a persistent message-streaming server. It speaks the Apache Iggy
binary protocol, so the Iggy SDKs work against it, and keeps its data on the
local filesystem or in an S3-compatible bucket.`,
		Version: version(),
		// run prints errors once, as "shoal: ..."; usage is for flag errors.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w\nRun '%s --help' for usage.", err, cmd.CommandPath())
	})
	root.AddCommand(
		newServerCommand(env),
		newVersionCommand(),
		newBenchCommand(env),
	)
	root.AddCommand(newClientCommands(env)...)
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of shoal",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "shoal", version())
		},
	}
}

// version describes the build: the module version (or "(devel)"), the VCS
// revision when the build recorded one, and the Go version.
func version() string {
	v := "(devel)"
	info, ok := debug.ReadBuildInfo()
	if ok && info.Main.Version != "" {
		v = info.Main.Version
	}
	if ok {
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			v += " " + rev
			if modified == "true" {
				v += "+dirty"
			}
		}
	}
	return v + " " + runtime.Version()
}
