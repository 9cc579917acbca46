// Command shoal is the one binary of shoal: the server (`shoal server`),
// the command-line client and the benchmark (`shoal bench`).
//
// Each subcommand lives in its own file and is added to the root command in
// newRootCommand. Commands are built by functions over an environment value
// (arguments, variables, output streams) rather than from package variables,
// so nothing in this package is global state and a test can build and run a
// command tree of its own.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

// environment is what a command sees of the process it runs in.
type environment struct {
	lookupEnv func(string) (string, bool) // os.LookupEnv
	environ   []string                    // os.Environ()
	stdin     io.Reader                   // nil reads as empty
	stdout    io.Writer
	stderr    io.Writer
}

func main() {
	env := environment{
		lookupEnv: os.LookupEnv,
		environ:   os.Environ(),
		stdin:     os.Stdin,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
	}
	os.Exit(run(context.Background(), os.Args[1:], env))
}

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, env environment) int {
	root := newRootCommand(env)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(env.stderr, "shoal: %v\n", err)
		return 1
	}
	return 0
}
