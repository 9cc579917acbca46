package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"unicode"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
)

// contextsFileName is the file, under the user's configuration directory
// (os.UserConfigDir()/shoal), that holds the client contexts. It is
// written with mode 0600: it may hold personal access tokens. Passwords
// are never stored.
const contextsFileName = "contexts.toml"

// contextsFile is the contexts file.
type contextsFile struct {
	Current  string                 `toml:"current,omitempty"`
	Contexts map[string]*cliContext `toml:"contexts,omitempty"`
}

// cliContext is a named server and how to log in to it.
type cliContext struct {
	Address  string `toml:"address,omitempty"`
	Username string `toml:"username,omitempty"`
	// Token is a personal access token that 'shoal login' created, and
	// TokenName its name on the server ('shoal logout' deletes it).
	Token                 string `toml:"token,omitempty"`
	TokenName             string `toml:"token_name,omitempty"`
	TLS                   bool   `toml:"tls,omitempty"`
	TLSCA                 string `toml:"tls_ca,omitempty"`
	TLSDomain             string `toml:"tls_domain,omitempty"`
	TLSInsecureSkipVerify bool   `toml:"tls_insecure_skip_verify,omitempty"`
}

// contextsPath returns the path of the contexts file.
func contextsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the configuration directory for contexts: %w", err)
	}
	return filepath.Join(dir, "shoal", contextsFileName), nil
}

// loadContexts reads the contexts file; a missing file is an empty one.
func loadContexts() (*contextsFile, error) {
	path, err := contextsPath()
	if err != nil {
		return nil, err
	}
	f := &contextsFile{}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		f.Contexts = map[string]*cliContext{}
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading contexts: %w", err)
	}
	if _, err := toml.Decode(string(b), f); err != nil {
		return nil, fmt.Errorf("reading contexts from %s: %w", path, err)
	}
	if f.Contexts == nil {
		f.Contexts = map[string]*cliContext{}
	}
	for name, cx := range f.Contexts {
		if cx == nil {
			f.Contexts[name] = &cliContext{}
		}
	}
	if f.Current != "" && f.Contexts[f.Current] == nil {
		f.Current = ""
	}
	return f, nil
}

// save writes the file atomically with mode 0600 (its directory 0700),
// and returns its path.
func (f *contextsFile) save() (string, error) {
	path, err := contextsPath()
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	buf.WriteString("# shoal client contexts: written by 'shoal context' and 'shoal login'.\n")
	if err := toml.NewEncoder(&buf).Encode(f); err != nil {
		return "", fmt.Errorf("encoding contexts: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("saving contexts: %w", err)
	}
	tmp, err := os.CreateTemp(dir, contextsFileName+".*")
	if err != nil {
		return "", fmt.Errorf("saving contexts: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("saving contexts: %w", err)
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return "", fmt.Errorf("saving contexts: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("saving contexts: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("saving contexts: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("saving contexts: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return path, nil
}

// checkContextName refuses empty names and names with spaces or control
// characters.
func checkContextName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("invalid context name %q: use 1 to 64 characters", name)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("invalid context name %q: no spaces or control characters", name)
		}
	}
	return nil
}

func (c *cli) completeContexts(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	f, err := loadContexts()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for n := range f.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, cobra.ShellCompDirectiveNoFileComp
}

func (c *cli) newContextCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "context",
		Short: "Manage named servers and logins (contexts)",
		Long: `A context names a server (address and TLS settings) and how to log in to it.
Commands use the current context unless --context names another; flags and
the SHOAL_* environment variables override what it holds.

Contexts live in shoal/` + contextsFileName + ` under the user's configuration
directory ($XDG_CONFIG_HOME or ~/.config on Linux), readable by the user only.
They never hold passwords: 'shoal login' stores a personal access token.`,
		Example: `  shoal context create prod --address shoal.example.com:8090 --tls --username alice
  shoal context use prod
  shoal login                 # asks for alice's password, stores a token in 'prod'
  shoal context list`,
	}
	cmd.AddCommand(c.newContextCreateCommand(), c.newContextUseCommand(), c.newContextListCommand(), c.newContextDeleteCommand())
	return cmd
}

func (c *cli) newContextCreateCommand() *cobra.Command {
	var use bool
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a context from the connection flags",
		Long: `Create a context from --address, --username and the TLS flags. It becomes the
current context if there is none yet, or with --use. To store a login in it,
run 'shoal login --context NAME'.`,
		Example: `  shoal context create local --address 127.0.0.1:8090 --username iggy
  shoal context create prod --address shoal.example.com:8090 --tls-ca ca.pem --use`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.checkOutput(); err != nil {
				return err
			}
			name := args[0]
			if err := checkContextName(name); err != nil {
				return err
			}
			f, err := loadContexts()
			if err != nil {
				return err
			}
			if f.Contexts[name] != nil {
				return fmt.Errorf("context %q already exists: delete it first, or log in to it with 'shoal login --context %s'", name, name)
			}
			cx := &cliContext{
				Address: c.address, Username: c.username,
				TLS: c.tlsOn, TLSCA: c.tlsCA, TLSDomain: c.tlsDomain, TLSInsecureSkipVerify: c.tlsInsecure,
			}
			if c.tlsCA != "" {
				if cx.TLSCA, err = filepath.Abs(c.tlsCA); err != nil {
					return err
				}
			}
			if _, err := (tlsSettings{TLS: cx.TLS, CA: cx.TLSCA, Domain: cx.TLSDomain, InsecureSkipVerify: cx.TLSInsecureSkipVerify}).config(); err != nil {
				return err
			}
			if cmd.Flags().Changed("token") || c.passwordStdin {
				return errors.New("a context stores no password or token given on the command line: create it, then run 'shoal login'")
			}
			f.Contexts[name] = cx
			if use || f.Current == "" {
				f.Current = name
			}
			path, err := f.save()
			if err != nil {
				return err
			}
			msg := fmt.Sprintf("Created context %q in %s", name, path)
			if f.Current == name {
				msg += "; it is the current context"
			}
			return c.done(msg, map[string]any{"context": name, "current": f.Current == name, "file": path})
		},
	}
	cmd.Flags().BoolVar(&use, "use", false, "make it the current context")
	return cmd
}

func (c *cli) newContextUseCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "use NAME",
		Short:             "Make a context the current one",
		Example:           `  shoal context use prod`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: c.completeContexts,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.checkOutput(); err != nil {
				return err
			}
			f, err := loadContexts()
			if err != nil {
				return err
			}
			if f.Contexts[args[0]] == nil {
				return fmt.Errorf("no context named %q (see 'shoal context list')", args[0])
			}
			f.Current = args[0]
			if _, err := f.save(); err != nil {
				return err
			}
			return c.done(fmt.Sprintf("Now using context %q", args[0]), map[string]any{"context": args[0]})
		},
	}
}

// contextView is a context in 'context list' output.
type contextView struct {
	Name                  string `json:"name"`
	Current               bool   `json:"current"`
	Address               string `json:"address"`
	Username              string `json:"username,omitempty"`
	LoggedIn              bool   `json:"logged_in"`
	TokenName             string `json:"token_name,omitempty"`
	TLS                   bool   `json:"tls"`
	TLSCA                 string `json:"tls_ca,omitempty"`
	TLSDomain             string `json:"tls_domain,omitempty"`
	TLSInsecureSkipVerify bool   `json:"tls_insecure_skip_verify,omitempty"`
}

func (c *cli) newContextListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the contexts",
		Example: `  shoal context list
  shoal context list -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.checkOutput(); err != nil {
				return err
			}
			f, err := loadContexts()
			if err != nil {
				return err
			}
			views := []contextView{}
			for name, cx := range f.Contexts {
				tlsOn := cx.TLS || cx.TLSCA != "" || cx.TLSDomain != "" || cx.TLSInsecureSkipVerify
				addr := cx.Address
				if addr == "" {
					addr = "(default)"
				}
				views = append(views, contextView{
					Name: name, Current: name == f.Current, Address: addr, Username: cx.Username,
					LoggedIn: cx.Token != "", TokenName: cx.TokenName,
					TLS: tlsOn, TLSCA: cx.TLSCA, TLSDomain: cx.TLSDomain, TLSInsecureSkipVerify: cx.TLSInsecureSkipVerify,
				})
			}
			sort.Slice(views, func(i, j int) bool { return views[i].Name < views[j].Name })
			return c.emit(views, func(w io.Writer) {
				t := newTable(w, "CURRENT", "NAME", "ADDRESS", "USERNAME", "LOGGED IN", "TLS")
				for _, v := range views {
					cur := ""
					if v.Current {
						cur = "*"
					}
					t.row(cur, v.Name, v.Address, orDash(v.Username), yesNo(v.LoggedIn), yesNo(v.TLS))
				}
				t.flush()
			})
		},
	}
}

func (c *cli) newContextDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a context",
		Long: `Delete a context. Its personal access token, if it holds one, stays valid on
the server: run 'shoal logout --context NAME' first to delete it there too.`,
		Example:           `  shoal context delete old`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: c.completeContexts,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.checkOutput(); err != nil {
				return err
			}
			f, err := loadContexts()
			if err != nil {
				return err
			}
			cx := f.Contexts[args[0]]
			if cx == nil {
				return fmt.Errorf("no context named %q (see 'shoal context list')", args[0])
			}
			delete(f.Contexts, args[0])
			if f.Current == args[0] {
				f.Current = ""
			}
			if _, err := f.save(); err != nil {
				return err
			}
			msg := fmt.Sprintf("Deleted context %q", args[0])
			if cx.TokenName != "" {
				msg += fmt.Sprintf("; its personal access token %q still exists on the server ('shoal pat delete %s' removes it)", cx.TokenName, cx.TokenName)
			}
			return c.done(msg, map[string]any{"context": args[0]})
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
