package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"

	"yamen/tenants"
)

// errChainBroken makes `yamen audit verify` exit 1; what broke is on stdout.
type errChainBroken struct{ slug string }

func (e errChainBroken) Error() string {
	return fmt.Sprintf("the audit chain of tenant %s is broken", e.slug)
}

// runAudit is `yamen audit verify --tenant SLUG`: it walks the tenant's audit
// chain and prints the first broken link, or that the chain is intact.
func runAudit(ctx context.Context, stdout io.Writer, args []string) error {
	const usage = "usage: yamen audit verify --tenant SLUG"
	if len(args) == 0 || args[0] != "verify" {
		return usageError{usage}
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	slug := fs.String("tenant", "", "the tenant's slug")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *slug == "" || fs.NArg() > 0 {
		return usageError{usage}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if env("YAMEN_AUDIT_KEY") == tenants.DevAuditKey {
		cfg.logger(os.Stderr).Warn("YAMEN_AUDIT_KEY is the public development key: a chain sealed with it proves nothing")
	}
	db, err := tenants.Open(ctx, cfg.databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.TenantBySlug(ctx, *slug)
	if err != nil {
		return err
	}
	r, err := db.Reader(t.ID, "cli:"+currentUser())
	if err != nil {
		return err
	}
	v, err := tenants.VerifyAudit(ctx, r, cfg.auditKey)
	if err != nil {
		return err
	}
	if b := v.Break; b != nil {
		if b.ID != 0 {
			fmt.Fprintf(stdout, "chain broken at record id %d (seq %d): %s: %s\n", b.ID, b.Seq, b.Kind, b.Detail)
		} else {
			fmt.Fprintf(stdout, "chain broken after record seq %d: %s: %s\n", v.HeadSeq, b.Kind, b.Detail)
		}
		fmt.Fprintf(stdout, "%d records before the break are intact\n", v.Records)
		return errChainBroken{*slug}
	}
	fmt.Fprintf(stdout, "chain intact, %d records\n", v.Records)
	if v.Unsealed > 0 {
		fmt.Fprintf(stdout, "the first %d were written before the chain existed: numbered, not sealed\n", v.Unsealed)
	}
	switch {
	case len(v.HeadMAC) > 0:
		// Kept elsewhere, the head shows later whether records were cut off
		// the end, which the chain alone cannot.
		fmt.Fprintf(stdout, "head: seq %d mac %s\n", v.HeadSeq, hex.EncodeToString(v.HeadMAC))
	case v.Records > 0:
		fmt.Fprintf(stdout, "head: seq %d (unsealed)\n", v.HeadSeq)
	}
	return nil
}
