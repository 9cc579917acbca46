package main

// The client commands: `shoal <resource> <verb>` for every command of the
// protocol. This file holds what they share: the connection and output
// flags, how a connection and its credentials are resolved (flags, then
// the environment, then the current context), reading passwords and
// stdin, and identifiers. Each resource has a cli_<resource>.go file.
//
// Every client command is a one-shot connection: it dials, logs in, runs
// one or a few requests and closes. Errors become one line naming what
// the command addressed (cli_errors.go); output is a table or JSON
// (cli_output.go).

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/shoalstream/shoal/client"
)

// Environment variables the client commands read. The server's
// configuration reserves these names, so it does not warn about them.
const (
	envAddress  = "SHOAL_ADDRESS"
	envUsername = "SHOAL_USERNAME"
	envPassword = "SHOAL_PASSWORD"
	envToken    = "SHOAL_TOKEN"
)

// Output formats.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// cli is the state the client commands of one command tree share: the
// environment and the values of the connection and output flags, which
// every top-level client command declares as persistent flags bound to
// the same fields (only one command runs per tree).
type cli struct {
	env environment

	address       string
	username      string
	passwordStdin bool
	token         string
	contextName   string
	tlsOn         bool
	tlsCA         string
	tlsDomain     string
	tlsInsecure   bool
	timeout       time.Duration
	output        string

	// in reads standard input; every reader of stdin lines (password,
	// messages) shares it, in the order the command documents.
	in *bufio.Reader
}

// newClientCommands returns the top-level client commands.
func newClientCommands(env environment) []*cobra.Command {
	c := &cli{env: env}
	cmds := []*cobra.Command{
		c.newPingCommand(),
		c.newMeCommand(),
		c.newStatsCommand(),
		c.newClusterCommand(),
		c.newSnapshotCommand(),
		c.newClientCommand(),
		c.newStreamCommand(),
		c.newTopicCommand(),
		c.newPartitionCommand(),
		c.newSegmentCommand(),
		c.newMessageCommand(),
		c.newConsumerOffsetCommand(),
		c.newConsumerGroupCommand(),
		c.newUserCommand(),
		c.newPATCommand(),
		c.newLoginCommand(),
		c.newLogoutCommand(),
		c.newContextCommand(),
	}
	for _, cmd := range cmds {
		c.addFlags(cmd)
		c.addNameCompletion(cmd)
	}
	return cmds
}

// addNameCompletion makes the commands under cmd whose arguments start
// with STREAM (and TOPIC) complete them with the server's names.
func (c *cli) addNameCompletion(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		c.addNameCompletion(sub)
	}
	if cmd.ValidArgsFunction != nil {
		return
	}
	use := strings.Fields(cmd.Use)
	if len(use) > 1 && use[1] == "STREAM" {
		cmd.ValidArgsFunction = c.completeNames(len(use) > 2 && use[2] == "TOPIC")
	}
}

// completeNames completes a stream name as the first argument and, with
// withTopic, a topic name of that stream as the second, from the server.
// It never asks for a password, and gives up after a few seconds.
func (c *cli) completeNames(withTopic bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		const none = cobra.ShellCompDirectiveNoFileComp
		if len(args) > 1 || (len(args) == 1 && !withTopic) {
			return nil, none
		}
		t, err := c.resolve(cmd)
		if err != nil || t.creds == nil {
			return nil, none
		}
		if t.creds.username != "" {
			p, ok := c.lookup(envPassword)
			if !ok {
				return nil, none
			}
			t.creds.password = p
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
		defer cancel()
		s, err := c.dial(ctx, t)
		if err != nil {
			return nil, none
		}
		defer s.Close()
		var names []cobra.Completion
		if len(args) == 0 {
			ss, _ := s.GetStreams(ctx)
			for _, st := range ss {
				names = append(names, st.Name)
			}
		} else if stream, err := parseID(args[0]); err == nil {
			ts, _ := s.GetTopics(ctx, stream)
			for _, tp := range ts {
				names = append(names, tp.Name)
			}
		}
		sort.Strings(names)
		return names, none
	}
}

// addFlags declares the connection and output flags on a top-level
// client command, for it and its subcommands.
func (c *cli) addFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&c.address, "address", "", "server `host:port` (env "+envAddress+"; default "+client.DefaultAddress+")")
	f.StringVar(&c.username, "username", "", "log in as `USER` (env "+envUsername+"); the password is prompted for, or read with --password-stdin or from "+envPassword)
	f.BoolVar(&c.passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&c.token, "token", "", "log in with a personal access `TOKEN` (env "+envToken+")")
	f.StringVar(&c.contextName, "context", "", "use the context `NAME` instead of the current one (see 'shoal context')")
	f.BoolVar(&c.tlsOn, "tls", false, "connect with TLS")
	f.StringVar(&c.tlsCA, "tls-ca", "", "trust the CA certificates in the PEM `FILE` (implies --tls)")
	f.StringVar(&c.tlsDomain, "tls-domain", "", "expect the server certificate for `NAME` (implies --tls; default: the address's host)")
	f.BoolVar(&c.tlsInsecure, "tls-insecure-skip-verify", false, "do not verify the server certificate (implies --tls; for tests only)")
	f.DurationVar(&c.timeout, "timeout", client.DefaultRequestTimeout, "bound on each request")
	f.StringVarP(&c.output, "output", "o", outputTable, "output format: table or json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{outputTable, outputJSON}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("context", c.completeContexts)
}

// jsonOut reports whether the output is JSON; checkOutput refuses an
// unknown format before anything is sent.
func (c *cli) jsonOut() bool { return c.output == outputJSON }

func (c *cli) checkOutput() error {
	switch c.output {
	case outputTable, outputJSON:
		return nil
	}
	return fmt.Errorf("unknown output format %q: use table or json", c.output)
}

func (c *cli) getenv(name string) string {
	if c.env.lookupEnv == nil {
		return ""
	}
	v, _ := c.env.lookupEnv(name)
	return v
}

// credentials are how a command logs in: a token, or a username with a
// password (resolved only when needed).
type credentials struct {
	username string
	password string
	token    string
	from     string // where they came from, for messages
}

// target is where a command connects and how it logs in.
type target struct {
	address string
	tls     *tls.Config
	creds   *credentials // nil: not logged in
}

// resolve works out the address, TLS settings and credentials of cmd:
// each from its flag, else the environment, else the context (--context
// or the current one).
func (c *cli) resolve(cmd *cobra.Command) (*target, error) {
	file, err := loadContexts()
	if err != nil {
		return nil, err
	}
	var cx *cliContext
	var cxName string
	switch {
	case c.contextName != "":
		cxName = c.contextName
		if cx = file.Contexts[cxName]; cx == nil {
			return nil, fmt.Errorf("no context named %q (see 'shoal context list')", cxName)
		}
	case file.Current != "":
		cxName, cx = file.Current, file.Contexts[file.Current]
	}
	if cx == nil {
		cx, cxName = &cliContext{}, ""
	}
	return c.resolveWith(cmd, cxName, cx)
}

// resolveWith is resolve with the context given.
func (c *cli) resolveWith(cmd *cobra.Command, cxName string, cx *cliContext) (*target, error) {
	if err := c.checkOutput(); err != nil {
		return nil, err
	}
	flags := cmd.Flags()
	var err error
	t := &target{}

	switch {
	case flags.Changed("address"):
		t.address = c.address
	case c.getenv(envAddress) != "":
		t.address = c.getenv(envAddress)
	case cx.Address != "":
		t.address = cx.Address
	default:
		t.address = client.DefaultAddress
	}

	tlsFlags := flags.Changed("tls") || flags.Changed("tls-ca") || flags.Changed("tls-domain") || flags.Changed("tls-insecure-skip-verify")
	ts := tlsSettings{TLS: cx.TLS, CA: cx.TLSCA, Domain: cx.TLSDomain, InsecureSkipVerify: cx.TLSInsecureSkipVerify}
	if tlsFlags {
		ts = tlsSettings{TLS: c.tlsOn, CA: c.tlsCA, Domain: c.tlsDomain, InsecureSkipVerify: c.tlsInsecure}
	}
	if t.tls, err = ts.config(); err != nil {
		return nil, err
	}

	switch {
	case flags.Changed("token"):
		t.creds = &credentials{token: c.token, from: "--token"}
	case flags.Changed("username"):
		t.creds = &credentials{username: c.username, from: "--username"}
	case c.getenv(envToken) != "":
		t.creds = &credentials{token: c.getenv(envToken), from: envToken}
	case c.getenv(envUsername) != "":
		t.creds = &credentials{username: c.getenv(envUsername), from: envUsername}
	case cx.Token != "":
		t.creds = &credentials{token: cx.Token, from: fmt.Sprintf("context %q", cxName)}
	case cx.Username != "":
		t.creds = &credentials{username: cx.Username, from: fmt.Sprintf("context %q", cxName)}
	}
	if t.creds != nil && t.creds.token == "" && t.creds.username == "" {
		return nil, fmt.Errorf("%s is empty", t.creds.from)
	}
	return t, nil
}

// tlsSettings are the TLS options of a connection, as flags and contexts
// hold them.
type tlsSettings struct {
	TLS                bool
	CA                 string
	Domain             string
	InsecureSkipVerify bool
}

// config returns the TLS configuration, or nil for plain TCP.
func (s tlsSettings) config() (*tls.Config, error) {
	if !s.TLS && s.CA == "" && s.Domain == "" && !s.InsecureSkipVerify {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: s.Domain, InsecureSkipVerify: s.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if s.CA != "" {
		pem, err := os.ReadFile(s.CA)
		if err != nil {
			return nil, fmt.Errorf("reading the TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("the TLS CA file %s holds no PEM certificate", s.CA)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// session is a connected (and usually logged-in) client.
type session struct {
	*client.Client
	cli     *cli
	cmd     *cobra.Command // the command running
	address string
}

// connect resolves cmd's connection, dials and logs in; without
// credentials it fails before dialing.
func (c *cli) connect(ctx context.Context, cmd *cobra.Command) (*session, error) {
	t, err := c.resolve(cmd)
	if err != nil {
		return nil, err
	}
	if c.passwordStdin && (t.creds == nil || t.creds.username == "") {
		return nil, errPasswordStdin
	}
	if t.creds == nil {
		return nil, errNotLoggedIn
	}
	if t.creds != nil && t.creds.username != "" {
		if t.creds.password, err = c.password(t); err != nil {
			return nil, err
		}
	}
	return c.dial(ctx, t)
}

// errNotLoggedIn is the reason given when a command has no credentials
// (or the server says the session is not logged in).
var errNotLoggedIn = errors.New("not logged in: run 'shoal login', or pass --username or --token (or set " + envUsername + " or " + envToken + ")")

var errPasswordStdin = errors.New("--password-stdin needs a username (--username or " + envUsername + ")")

// dial connects to t and logs in with its credentials.
func (c *cli) dial(ctx context.Context, t *target) (*session, error) {
	cl, err := client.Dial(ctx, client.Options{
		Address:        t.address,
		TLS:            t.tls,
		RequestTimeout: c.timeout,
		// Keeps a group membership (poll --group, join --hold) alive.
		Heartbeat: 5 * time.Second,
	})
	s := &session{cli: c, address: t.address}
	if err != nil {
		return nil, s.explain(ctx, err, subject{})
	}
	s.Client = cl
	if t.creds == nil {
		return s, nil
	}
	if t.creds.token != "" {
		_, err = cl.LoginWithToken(ctx, t.creds.token)
	} else {
		_, err = cl.LoginUser(ctx, t.creds.username, t.creds.password)
	}
	if err != nil {
		cl.Close()
		return nil, s.explainLogin(ctx, err, t.creds)
	}
	return s, nil
}

// password returns the password of t's username: from stdin with
// --password-stdin, else from SHOAL_PASSWORD, else prompted for on a
// terminal.
func (c *cli) password(t *target) (string, error) {
	if c.passwordStdin {
		return c.readSecretLine("the password")
	}
	if p, ok := c.lookup(envPassword); ok {
		return p, nil
	}
	if p, ok, err := c.prompt(fmt.Sprintf("Password for %s at %s: ", t.creds.username, t.address)); ok || err != nil {
		return p, err
	}
	return "", fmt.Errorf("no password for %s: use --password-stdin, set %s, or run on a terminal to be asked", t.creds.username, envPassword)
}

func (c *cli) lookup(name string) (string, bool) {
	if c.env.lookupEnv == nil {
		return "", false
	}
	return c.env.lookupEnv(name)
}

// stdin returns the shared reader of standard input.
func (c *cli) stdin() *bufio.Reader {
	if c.in == nil {
		r := c.env.stdin
		if r == nil {
			r = strings.NewReader("")
		}
		c.in = bufio.NewReaderSize(r, 64<<10)
	}
	return c.in
}

// terminal returns standard input's file descriptor if it is a terminal.
func (c *cli) terminal() (int, bool) {
	f, ok := c.env.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}

// prompt asks for a secret on the terminal without echo. ok is false when
// standard input is not a terminal.
func (c *cli) prompt(question string) (secret string, ok bool, err error) {
	fd, ok := c.terminal()
	if !ok {
		return "", false, nil
	}
	fmt.Fprint(c.env.stderr, question)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(c.env.stderr)
	if err != nil {
		return "", true, fmt.Errorf("reading the password: %w", err)
	}
	return string(b), true, nil
}

// readSecretLine reads the next line of standard input as a secret.
func (c *cli) readSecretLine(what string) (string, error) {
	line, err := readLine(c.stdin(), 1024)
	if errors.Is(err, io.EOF) {
		return "", fmt.Errorf("expected %s on standard input, found none", what)
	}
	if err != nil {
		return "", fmt.Errorf("reading %s from standard input: %w", what, err)
	}
	return string(line), nil
}

// newSecret reads a new password: the next stdin line with fromStdin,
// else prompted for twice on a terminal.
func (c *cli) newSecret(what string, fromStdin bool, flag string) (string, error) {
	if fromStdin {
		return c.readSecretLine(what)
	}
	p, ok, err := c.prompt(fmt.Sprintf("%s: ", capitalize(what)))
	if err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%s is needed: use %s, or run on a terminal to be asked", what, flag)
		}
		return "", err
	}
	again, _, err := c.prompt(fmt.Sprintf("Repeat %s: ", what))
	if err != nil {
		return "", err
	}
	if again != p {
		return "", fmt.Errorf("the two entries of %s differ", what)
	}
	return p, nil
}

// readLine reads one line without its "\n" (or "\r\n"), at most max
// bytes. The last line may lack its newline; io.EOF means no line at all.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max+2 {
			return nil, fmt.Errorf("a line longer than %d bytes", max)
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			line = line[:len(line)-1]
			return trimCR(line), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return trimCR(line), nil
		default:
			return nil, err
		}
	}
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// parseID reads a stream, topic, group, consumer or user argument: a
// number is a numeric id, anything else a name.
func parseID(s string) (client.Identifier, error) {
	if s == "" {
		return client.Identifier{}, errors.New("an empty name")
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return client.NumericID(uint32(n)), nil
	}
	if len(s) > client.MaxNameSize {
		return client.Identifier{}, fmt.Errorf("name %.20q… is longer than %d bytes", s, client.MaxNameSize)
	}
	return client.NamedID(s), nil
}

// ids parses the leading arguments of a command as identifiers.
func ids(args ...string) ([]client.Identifier, error) {
	out := make([]client.Identifier, len(args))
	for i, a := range args {
		id, err := parseID(a)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// parseUint32 reads a partition id or count argument.
func parseUint32(what, s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number from 0 to %d", what, s, uint32(1<<32-1))
	}
	return uint32(n), nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// withSession adapts a command body that needs a logged-in session.
func (c *cli) withSession(f func(ctx context.Context, s *session, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		s, err := c.connect(ctx, cmd)
		if err != nil {
			return err
		}
		defer s.Close()
		s.cmd = cmd
		return f(ctx, s, args)
	}
}
