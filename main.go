// Command yamen is the platform of one jurisdiction: its API, its worker, its
// migrations and its demo data.
//
//	yamen serve      the HTTP API
//	yamen worker     the task worker
//	yamen dev        API and worker in one process, for development
//	yamen migrate    create or update the database (as YAMEN_DATABASE_ADMIN_URL)
//	yamen seed demo  load the fictional jurisdiction 示范市 and its three tenants
//	yamen openapi    print the OpenAPI document
//	yamen keys       create, list and revoke API keys
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name, summary, usage string
	run                  func(ctx context.Context, stdout io.Writer, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "serve the HTTP API", "", runServe},
		{"worker", "run the task worker", "", runWorker},
		{"dev", "run API and worker in one process and print where to start", "", runDev},
		{"migrate", "create or update the database, its schema and its roles", "", runMigrate},
		{"seed", "load data: `seed demo` loads the demo jurisdiction", "demo", runSeed},
		{"openapi", "print the OpenAPI 3.1 document", "[--yaml]", runOpenAPI},
		{"keys", "manage API keys", "create --platform [--name N] [--expires 720h]\n  yamen keys create --tenant SLUG --scopes a,b [--name N] [--expires 720h]\n  yamen keys list (--platform | --tenant SLUG)\n  yamen keys revoke ID (--platform | --tenant SLUG)", runKeys},
		{"audit", "check the audit log: `audit verify` walks a tenant's HMAC-SM3 chain", "verify --tenant SLUG", runAudit},
	}
}

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "yamen:", err)
		}
		os.Exit(exitCode(err))
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func run(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stderr)
		if len(args) == 0 {
			return usageError{"no command given"}
		}
		return nil
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		for _, a := range args[1:] {
			if a == "-h" || a == "--help" || a == "-help" {
				fmt.Fprintf(stderr, "yamen %s: %s\n\nUsage:\n  yamen %s %s\n", c.name, c.summary, c.name, c.usage)
				printSettings(stderr)
				return nil
			}
		}
		return c.run(ctx, stdout, args[1:])
	}
	printUsage(stderr)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "yamen — 衙门, the platform of one jurisdiction\n\nUsage: yamen <command> [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n`yamen <command> --help` lists the environment each command reads.")
}
