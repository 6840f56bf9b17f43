// Package migrations holds the shape of the data: ordered SQL files with the
// row level security policies next to their tables, and Migrate, which
// applies them.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed *.sql
var files embed.FS

const (
	// Schema holds every Yamen table.
	Schema = "yamen"
	// OwnerRole owns the schema and everything in it; nobody logs in as it.
	OwnerRole = "yamen_owner"
	// AppRole is what the service connects as: not the owner, not a
	// superuser, no BYPASSRLS, so row level security always applies.
	AppRole = "yamen_app"

	versionTable = Schema + ".schema_version"
	// lockKey serialises concurrent `yamen migrate` runs on one database.
	lockKey = 7_226_110_001
)

// Options configure Migrate.
type Options struct {
	// AppPassword, when set, becomes yamen_app's password (YAMEN_APP_DB_PASSWORD).
	AppPassword string
	Logger      *slog.Logger
}

// Migrate brings the database at adminURL up to date. It creates the database
// when it does not exist, the roles when they are missing, and applies every
// migration not yet applied, as yamen_owner. Running it again changes nothing.
func Migrate(ctx context.Context, adminURL string, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := connectCreating(ctx, adminURL, log)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))

	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck // the session ends right after

	if err := ensureRoles(ctx, conn, opts.AppPassword); err != nil {
		return err
	}
	dbName := conn.Config().Database
	setup := []string{
		"CREATE EXTENSION IF NOT EXISTS ltree WITH SCHEMA public",
		fmt.Sprintf("CREATE SCHEMA IF NOT EXISTS %s AUTHORIZATION %s", Schema, OwnerRole),
		fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s", Schema, AppRole),
		fmt.Sprintf("GRANT CONNECT ON DATABASE %s TO %s", pgx.Identifier{dbName}.Sanitize(), AppRole),
		fmt.Sprintf("ALTER ROLE %s IN DATABASE %s SET search_path = %s, public", AppRole, pgx.Identifier{dbName}.Sanitize(), Schema),
		fmt.Sprintf("ALTER ROLE %s IN DATABASE %s SET search_path = %s, public", OwnerRole, pgx.Identifier{dbName}.Sanitize(), Schema),
		fmt.Sprintf("SET ROLE %s", OwnerRole),
		fmt.Sprintf("SET search_path = %s, public", Schema),
	}
	for _, stmt := range setup {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: %s: %w", strings.SplitN(stmt, " ", 4)[:3], err)
		}
	}

	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := m.LoadMigrations(files); err != nil {
		return fmt.Errorf("migrate: load: %w", err)
	}
	// tern runs RESET ALL after each migration, which keeps the role but
	// drops the search path: every migration sets it again itself.
	for _, mig := range m.Migrations {
		mig.UpSQL = "SET search_path = " + Schema + ", public;\n" + mig.UpSQL
	}
	before, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate: current version: %w", err)
	}
	m.OnStart = func(seq int32, name, _, _ string) {
		log.Info("applying migration", "sequence", seq, "name", name)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	after, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate: current version: %w", err)
	}
	// The version table must not be writable by the service.
	if _, err := conn.Exec(ctx, fmt.Sprintf("REVOKE ALL ON %s FROM %s", versionTable, AppRole)); err != nil {
		return fmt.Errorf("migrate: revoke version table: %w", err)
	}
	log.Info("database migrated", "database", dbName, "from", before, "to", after)
	return nil
}

// connectCreating connects to adminURL, creating its database first when it
// does not exist yet.
func connectCreating(ctx context.Context, adminURL string, log *slog.Logger) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return nil, fmt.Errorf("migrate: YAMEN_DATABASE_ADMIN_URL: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	var pgErr *pgconn.PgError
	if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "3D000" {
		if err != nil {
			return nil, fmt.Errorf("migrate: connect: %w", err)
		}
		return conn, nil
	}
	maint := cfg.Copy()
	maint.Database = "postgres"
	mc, err := pgx.ConnectConfig(ctx, maint)
	if err != nil {
		return nil, fmt.Errorf("migrate: connect to create database %q: %w", cfg.Database, err)
	}
	defer mc.Close(context.WithoutCancel(ctx))
	_, err = mc.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize()+" ENCODING 'UTF8' TEMPLATE template0")
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P04") {
		return nil, fmt.Errorf("migrate: create database %q: %w", cfg.Database, err)
	}
	log.Info("database created", "database", cfg.Database)
	conn, err = pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("migrate: connect: %w", err)
	}
	return conn, nil
}

// ensureRoles creates yamen_owner and yamen_app when missing and makes sure
// yamen_app has no power beyond logging in.
func ensureRoles(ctx context.Context, conn *pgx.Conn, appPassword string) error {
	stmts := []string{
		"CREATE ROLE " + OwnerRole + " NOLOGIN",
		"CREATE ROLE " + AppRole + " LOGIN",
	}
	for _, stmt := range stmts {
		_, err := conn.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		// Roles are cluster-wide: another database's migrate may have made it.
		if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42710") {
			return fmt.Errorf("migrate: %s: %w", stmt, err)
		}
	}
	if _, err := conn.Exec(ctx, "ALTER ROLE "+AppRole+" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT"); err != nil {
		return fmt.Errorf("migrate: restrict %s: %w", AppRole, err)
	}
	if appPassword != "" {
		// ALTER ROLE takes no parameters; the literal is quoted by the server's rules.
		var quoted string
		if err := conn.QueryRow(ctx, "SELECT quote_literal($1::text)", appPassword).Scan(&quoted); err != nil {
			return fmt.Errorf("migrate: quote password: %w", err)
		}
		if _, err := conn.Exec(ctx, "ALTER ROLE "+AppRole+" PASSWORD "+quoted); err != nil {
			return fmt.Errorf("migrate: set %s password: %w", AppRole, err)
		}
	}
	// A non-superuser admin (CREATEROLE) needs membership to SET ROLE.
	var super bool
	if err := conn.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		return fmt.Errorf("migrate: inspect admin role: %w", err)
	}
	if !super {
		if _, err := conn.Exec(ctx, "GRANT "+OwnerRole+" TO current_user"); err != nil {
			return fmt.Errorf("migrate: grant %s to admin: %w", OwnerRole, err)
		}
	}
	return nil
}
