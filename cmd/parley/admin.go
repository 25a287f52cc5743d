package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/parley-audio/parley/members"
)

const adminUsage = `usage: parley admin <command> [flags]

Commands, run by whoever holds the database (they open it as 'parley serve'
would, with the same flags and PARLEY_* variables):

  create --username NAME --display-name NAME
        create an active admin account; the password is read from the
        terminal without echo, or as the first line of standard input
  list-waitlist
        list the accounts waiting to be let in, oldest first
  approve --username NAME
        let the account with that username in from the waitlist
`

// runAdmin is `parley admin`: account administration straight on the
// database, for the first admin of an instance whose web page is not
// reachable yet, and for operators without a browser.
func runAdmin(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, adminUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, args := args[0], args[1:]
	var username, displayName string
	var extra func(*flag.FlagSet)
	switch cmd {
	case "create":
		extra = func(fs *flag.FlagSet) {
			fs.StringVar(&username, "username", "", "the new admin's username")
			fs.StringVar(&displayName, "display-name", "", "the new admin's display name")
		}
	case "approve":
		extra = func(fs *flag.FlagSet) { fs.StringVar(&username, "username", "", "the waitlisted account's username") }
	case "list-waitlist":
	default:
		fmt.Fprintf(stderr, "parley admin: unknown command %q\n%s", cmd, adminUsage)
		return 2
	}
	name := "parley admin " + cmd
	var cfg serveConfig
	var err error
	if extra != nil {
		cfg, err = loadConfig(name, args, nil, stderr, extra)
	} else {
		cfg, err = loadConfig(name, args, nil, stderr)
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && cmd != "list-waitlist" && username == "" {
		err = errors.New("--username is required")
	}
	if err == nil && cmd == "create" && displayName == "" {
		err = errors.New("--display-name is required")
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	if err := adminCommand(cmd, cfg, username, displayName, stdin, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

func adminCommand(cmd string, cfg serveConfig, username, displayName string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx := context.Background()
	if cfg.DatabaseURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
	}
	d, err := openDurable(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.close()
	svc, err := newAccounts(cfg, d.members, openLimiters(cfg, nil), slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	switch cmd {
	case "create":
		password, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		a, err := svc.CreateAdmin(ctx, members.SignUpRequest{Username: username, Password: password, DisplayName: displayName})
		if err != nil {
			return explain(err)
		}
		fmt.Fprintf(stdout, "created admin %s (%s), %s\n", a.Username, a.DisplayName, a.ID)
	case "approve":
		a, err := svc.OperatorApprove(ctx, username)
		if err != nil {
			return explain(err)
		}
		fmt.Fprintf(stdout, "approved %s (%s), %s: they can sign in now\n", a.Username, a.DisplayName, a.ID)
	case "list-waitlist":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		n, cursor := 0, ""
		for {
			page, err := svc.OperatorWaitlist(ctx, members.MaxPageSize, cursor)
			if err != nil {
				return err
			}
			for _, a := range page.Items {
				if n == 0 {
					fmt.Fprintln(tw, "USERNAME\tDISPLAY NAME\tID\tWAITING SINCE")
				}
				n++
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Username, a.DisplayName, a.ID, a.CreatedAt.Format("2006-01-02 15:04 MST"))
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintln(stdout, "no one is on the waitlist")
		}
	}
	return nil
}

// explain words the errors an operator can fix.
func explain(err error) error {
	var ve *members.ValidationError
	switch {
	case errors.As(err, &ve):
		return ve
	case errors.Is(err, members.ErrUsernameTaken):
		return errors.New("that username is taken")
	case errors.Is(err, members.ErrAccountNotFound):
		return errors.New("no account has that username")
	case errors.Is(err, members.ErrNotWaitlisted):
		return errors.New("that account is not on the waitlist")
	}
	return err
}

// readPassword asks for the password on a terminal, twice and without
// echo; from anything else (a pipe, a file) it reads the first line.
func readPassword(stdin io.Reader, prompt io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "Password: ")
		p, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(prompt, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(p) != string(again) {
			return "", errors.New("the passwords differ")
		}
		return string(p), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}
