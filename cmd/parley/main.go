// Command parley is the Parley server: live audio rooms with a built-in SFU.
//
//	parley serve [flags]    run the server (the default)
//	parley migrate [flags]  apply the database migrations, then exit
//	parley admin ...        accounts: create an admin, the waitlist
//	parley bench [flags]    load a running server and measure it
//	parley version          print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := loadServeConfig(args, nil, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, "parley serve:", err)
			return 2
		}
		log := newLogger(cfg, stderr)
		// The first SIGINT or SIGTERM starts a graceful shutdown; stop()
		// then restores the default handling, so a second one kills.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		go func() { <-ctx.Done(); stop() }()
		defer stop()
		if err := serve(ctx, cfg, log, nil); err != nil {
			log.Error("parley serve failed", "err", err)
			return 1
		}
		return 0
	case "bench":
		return runBench(args, stdout, stderr)
	case "migrate":
		return runMigrate(args, stdout, stderr)
	case "admin":
		return runAdmin(args, os.Stdin, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "parley", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: parley [serve|migrate|admin|bench|version] [flags]\n\nRun 'parley serve -h' for the server's flags; migrate and admin take the same.")
		return 0
	default:
		fmt.Fprintf(stderr, "parley: unknown command %q\nusage: parley [serve|migrate|admin|bench|version] [flags]\n", cmd)
		return 2
	}
}

func newLogger(cfg serveConfig, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
