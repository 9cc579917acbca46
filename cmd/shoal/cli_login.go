package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoalstream/shoal/client"
)

// defaultContextName is the context 'shoal login' fills when there is no
// current one and --context names none.
const defaultContextName = "default"

func (c *cli) newLoginCommand() *cobra.Command {
	var tokenName, expiry string
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in and keep a personal access token in a context",
		Long: `Log in with a username and password, create a personal access token for this
machine, and store the token (never the password) in a context: --context
NAME, else the current context, else one named 'default'. The context also
keeps the address, username and TLS settings, and becomes the current one.
Later commands log in with the token until 'shoal logout'.

The password is asked for on a terminal, or read with --password-stdin or
from SHOAL_PASSWORD. Given a token instead (--token or SHOAL_TOKEN), login
checks it and stores it as it is.`,
		Example: `  shoal login --username iggy
  shoal login --address shoal.example.com:8090 --tls --username alice --context prod
  printf '%s\n' "$PASSWORD" | shoal login --username ci --password-stdin --expiry 1d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			file, err := loadContexts()
			if err != nil {
				return err
			}
			name := c.contextName
			if name == "" {
				name = file.Current
			}
			if name == "" {
				name = defaultContextName
			}
			if err := checkContextName(name); err != nil {
				return err
			}
			cx := file.Contexts[name]
			if cx == nil {
				cx = &cliContext{}
			}
			t, err := c.resolveWith(cmd, name, cx)
			if err != nil {
				return err
			}
			// A token already in the context is what login replaces: log in
			// with a password unless a token was given.
			if t.creds == nil || (t.creds.token != "" && t.creds.token == cx.Token) {
				user := cx.Username
				if user == "" {
					return fmt.Errorf("who logs in? give --username (or set %s)", envUsername)
				}
				t.creds = &credentials{username: user, from: fmt.Sprintf("context %q", name)}
			}
			if c.passwordStdin && t.creds.username == "" {
				return errPasswordStdin
			}
			var us uint64
			if t.creds.username != "" {
				if us, err = parseExpiry(expiry); err != nil {
					return fmt.Errorf("--expiry: %w", err)
				}
				if t.creds.password, err = c.password(t); err != nil {
					return err
				}
			}
			s, err := c.dial(ctx, t)
			if err != nil {
				return err
			}
			defer s.Close()

			oldToken, oldName := cx.Token, cx.TokenName
			cx.Address, cx.Username = t.address, t.creds.username
			tlsSet := cmd.Flags().Changed("tls") || cmd.Flags().Changed("tls-ca") || cmd.Flags().Changed("tls-domain") || cmd.Flags().Changed("tls-insecure-skip-verify")
			if tlsSet {
				cx.TLS, cx.TLSCA, cx.TLSDomain, cx.TLSInsecureSkipVerify = c.tlsOn, c.tlsCA, c.tlsDomain, c.tlsInsecure
			}
			msg := ""
			out := map[string]any{"context": name, "address": t.address}
			if t.creds.token != "" {
				cx.Token, cx.TokenName = t.creds.token, ""
				msg = fmt.Sprintf("Logged in to %s with the given token", t.address)
			} else {
				if tokenName == "" {
					host, _ := os.Hostname()
					tokenName = "shoal-cli-" + strings.ReplaceAll(host, " ", "-") + "-" + time.Now().UTC().Format("20060102-150405")
				}
				tok, err := s.CreatePersonalAccessToken(ctx, tokenName, us)
				if err != nil {
					return s.explain(ctx, err, subject{name: tokenName})
				}
				cx.Token, cx.TokenName = tok, tokenName
				msg = fmt.Sprintf("Logged in to %s as %s; token '%s' (expires: %s)", t.address, t.creds.username, tokenName, expiryText(us))
				out["username"], out["token_name"] = t.creds.username, tokenName
				// The token this login replaces is of no use any more.
				if oldName != "" && oldToken != "" && oldName != tokenName {
					if err := s.DeletePersonalAccessToken(ctx, oldName); err == nil {
						msg += fmt.Sprintf("; deleted the previous token '%s'", oldName)
					}
				}
			}
			file.Contexts[name] = cx
			file.Current = name
			path, err := file.save()
			if err != nil {
				return err
			}
			msg += fmt.Sprintf("; saved in context %q (%s)", name, path)
			out["file"] = path
			return c.done(msg, out)
		},
	}
	cmd.Flags().StringVar(&tokenName, "token-name", "", "name of the token to create (default: shoal-cli-<host>-<time>)")
	cmd.Flags().StringVar(&expiry, "expiry", "30d", "the token expires after this `DURATION` (e.g. 12h, 90d) or never")
	return cmd
}

func (c *cli) newLogoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Delete the context's token on the server and forget it",
		Long: `Log out of a context (--context NAME, else the current one): delete its
personal access token on the server, end the session, and remove the token
from the context. The context keeps its address and username.`,
		Example: `  shoal logout
  shoal logout --context prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			file, err := loadContexts()
			if err != nil {
				return err
			}
			name := c.contextName
			if name == "" {
				name = file.Current
			}
			if name == "" {
				return errors.New("no context to log out of: there is no current context and --context names none")
			}
			cx := file.Contexts[name]
			if cx == nil {
				return fmt.Errorf("no context named %q (see 'shoal context list')", name)
			}
			if cx.Token == "" {
				return c.done(fmt.Sprintf("Context %q holds no login", name), map[string]any{"context": name})
			}
			t, err := c.resolveWith(cmd, name, cx)
			if err != nil {
				return err
			}
			t.creds = &credentials{token: cx.Token, from: fmt.Sprintf("context %q", name)}
			msg := fmt.Sprintf("Logged out of context %q", name)
			s, err := c.dial(ctx, t)
			switch {
			case client.CodeOf(err) == client.ErrInvalidPAT.Code:
				msg += "; its token was no longer valid"
			case err != nil:
				return fmt.Errorf("%w (the token stays in context %q; 'shoal context delete %s' forgets it)", err, name, name)
			default:
				defer s.Close()
				if cx.TokenName != "" {
					if err := s.DeletePersonalAccessToken(ctx, cx.TokenName); err != nil {
						return s.explain(ctx, err, subject{token: cx.TokenName})
					}
					msg += fmt.Sprintf("; deleted token '%s' on the server", cx.TokenName)
				}
				if err := s.Logout(ctx); err != nil {
					return s.explain(ctx, err, subject{})
				}
			}
			cx.Token, cx.TokenName = "", ""
			if _, err := file.save(); err != nil {
				return err
			}
			return c.done(msg, map[string]any{"context": name})
		},
	}
}
