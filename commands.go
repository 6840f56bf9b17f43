package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"yamen/api"
	"yamen/infra/demo"
	"yamen/migrations"
	"yamen/modules/builtin"
	"yamen/tenants"
)

func runMigrate(ctx context.Context, _ io.Writer, _ []string) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	return migrations.Migrate(ctx, cfg.adminURL, migrations.Options{AppPassword: cfg.appPassword, Logger: cfg.logger(os.Stderr)})
}

func runSeed(ctx context.Context, stdout io.Writer, args []string) error {
	if len(args) != 1 || args[0] != "demo" {
		return usageError{"usage: yamen seed demo"}
	}
	s, err := openService(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	res, err := demo.Seed(ctx, s.db, s.reg)
	if err != nil {
		return err
	}
	for _, t := range res.Tenants {
		fmt.Fprintf(stdout, "tenant %-12s %s (%s)\n", t.Slug, t.Name, t.Kind)
	}
	if len(res.Keys) == 0 {
		fmt.Fprintln(stdout, "demo data already present; no new keys (make one with `yamen keys create --tenant demo-hall --scopes '*'`)")
		return nil
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	for _, k := range res.Keys {
		scope := "platform"
		if k.Tenant != "" {
			scope = k.Tenant
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", scope, k.Label, k.Secret)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "new demo keys (shown once):\n%s", b.String())
	if s.cfg.demoKeysFile != "" {
		f, err := os.OpenFile(s.cfg.demoKeysFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("keep demo keys: %w", err)
		}
		defer f.Close()
		if _, err := f.WriteString(b.String()); err != nil {
			return fmt.Errorf("keep demo keys: %w", err)
		}
	}
	return nil
}

func runOpenAPI(_ context.Context, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	asYAML := fs.Bool("yaml", false, "print YAML instead of JSON")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	reg, err := builtin.Registry()
	if err != nil {
		return err
	}
	// The document needs no database: operations are registered, not run.
	srv, err := api.New(api.Config{Registry: reg})
	if err != nil {
		return err
	}
	var out []byte
	if *asYAML {
		out, err = srv.OpenAPI().YAML()
	} else {
		out, err = json.MarshalIndent(srv.OpenAPI(), "", "  ")
	}
	if err != nil {
		return fmt.Errorf("openapi: %w", err)
	}
	_, err = fmt.Fprintln(stdout, string(out))
	return err
}

func runKeys(ctx context.Context, stdout io.Writer, args []string) error {
	if len(args) == 0 {
		return usageError{"usage: yamen keys create|list|revoke …"}
	}
	verb := args[0]
	fs := flag.NewFlagSet("keys "+verb, flag.ContinueOnError)
	platform := fs.Bool("platform", false, "a platform admin key")
	slug := fs.String("tenant", "", "the tenant's slug, for a tenant key")
	scopes := fs.String("scopes", "", "comma-separated actions the key may perform, such as orgs:read,modules:read; * for all")
	name := fs.String("name", "", "what the key is for")
	expires := fs.Duration("expires", 0, "lifetime such as 720h; none when 0")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *platform == (*slug != "") {
		return usageError{"give exactly one of --platform and --tenant SLUG"}
	}
	s, err := openService(ctx)
	if err != nil {
		return err
	}
	defer s.close()

	var tenant tenants.Tenant
	if *slug != "" {
		if tenant, err = s.db.TenantBySlug(ctx, *slug); err != nil {
			return err
		}
	}
	inTenant := func(fn func(tx *tenants.Tx) error) error {
		return s.db.Tx(ctx, tenant.ID, "cli:"+currentUser(), fn)
	}
	switch verb {
	case "create":
		if *name == "" {
			*name = "created with yamen keys at " + time.Now().Format(time.DateTime)
		}
		var secret string
		if *platform {
			_, secret, err = s.db.CreatePlatformKey(ctx, tenants.NewKey{Name: *name, TTL: *expires})
		} else {
			list := splitList(*scopes)
			if len(list) == 0 {
				return usageError{"a tenant key needs --scopes"}
			}
			err = inTenant(func(tx *tenants.Tx) error {
				_, secret, err = tenants.CreateTenantKey(ctx, tx, tenants.NewKey{Name: *name, Scopes: list, TTL: *expires})
				return err
			})
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, secret)
		return nil
	case "list":
		var ks []tenants.KeyInfo
		if *platform {
			ks, err = s.db.ListPlatformKeys(ctx)
		} else {
			err = inTenant(func(tx *tenants.Tx) (err error) { ks, err = tenants.ListTenantKeys(ctx, tx); return err })
		}
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tEXPIRES\tLAST USED\tREVOKED")
		for _, k := range ks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), when(k.ExpiresAt), when(k.LastUsedAt), when(k.RevokedAt))
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return usageError{"usage: yamen keys revoke ID (--platform | --tenant SLUG)"}
		}
		id, perr := uuid.Parse(fs.Arg(0))
		if perr != nil {
			return usageError{fmt.Sprintf("key id %q: %v", fs.Arg(0), perr)}
		}
		if *platform {
			return s.db.RevokePlatformKey(ctx, id)
		}
		return inTenant(func(tx *tenants.Tx) error { return tenants.RevokeTenantKey(ctx, tx, id) })
	}
	return usageError{fmt.Sprintf("unknown keys command %q", verb)}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
