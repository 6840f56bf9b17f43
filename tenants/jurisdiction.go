package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Jurisdiction is the deployment: one city or province.
type Jurisdiction struct {
	Name       string `json:"name"`
	RegionCode string `json:"region_code"`
	TimeZone   string `json:"time_zone"`
}

// Region is a node of the GB/T 2260 region tree, extended down to towns and
// communities. Levels: 1 province, 2 city, 3 county or district, 4 town or
// street, 5 community or village.
type Region struct {
	Code       string  `json:"code"`
	Name       string  `json:"name"`
	ParentCode *string `json:"parent_code"`
	Level      int     `json:"level"`
}

// CalendarDay is an exception to the Monday–Friday week: a public holiday,
// or a weekend day worked to make up for one (调休).
type CalendarDay struct {
	Day  time.Time `json:"day"`
	Kind string    `json:"kind" enum:"holiday,workday"`
	Name string    `json:"name"`
}

// GetJurisdiction returns the jurisdiction, or an error when none is set up.
func (db *DB) GetJurisdiction(ctx context.Context) (Jurisdiction, error) {
	var j Jurisdiction
	err := db.Pool.QueryRow(ctx, "SELECT name, region_code, time_zone FROM jurisdiction").Scan(&j.Name, &j.RegionCode, &j.TimeZone)
	if errors.Is(err, pgx.ErrNoRows) {
		return Jurisdiction{}, errors.New("tenants: no jurisdiction is set up (run `yamen seed`)")
	}
	if err != nil {
		return Jurisdiction{}, fmt.Errorf("tenants: jurisdiction: %w", err)
	}
	return j, nil
}

// SetJurisdiction creates or replaces the jurisdiction.
func (db *DB) SetJurisdiction(ctx context.Context, j Jurisdiction) error {
	if _, err := db.Pool.Exec(ctx, `INSERT INTO jurisdiction (name, region_code, time_zone) VALUES ($1, $2, $3)
		ON CONFLICT (singleton) DO UPDATE SET name = $1, region_code = $2, time_zone = $3, updated_at = now()`,
		j.Name, j.RegionCode, j.TimeZone); err != nil {
		return fmt.Errorf("tenants: set jurisdiction: %w", err)
	}
	return nil
}

// UpsertRegions writes regions, parents before children.
func (db *DB) UpsertRegions(ctx context.Context, rs []Region) error {
	b := &pgx.Batch{}
	for _, r := range rs {
		b.Queue(`INSERT INTO regions (code, name, parent_code, level) VALUES ($1, $2, $3, $4)
			ON CONFLICT (code) DO UPDATE SET name = $2, parent_code = $3, level = $4`, r.Code, r.Name, r.ParentCode, r.Level)
	}
	if err := db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("tenants: upsert regions: %w", err)
	}
	return nil
}

// Regions returns the children of parent, or the top level when parent is "".
func (db *DB) Regions(ctx context.Context, parent string) ([]Region, error) {
	rows, err := db.Pool.Query(ctx, `SELECT code, name, parent_code, level FROM regions
		WHERE ($1 = '' AND parent_code IS NULL) OR parent_code = $1 ORDER BY code`, parent)
	return collect("regions", rows, err, pgx.RowToStructByPos[Region])
}

// UpsertCalendar writes calendar exceptions.
func (db *DB) UpsertCalendar(ctx context.Context, days []CalendarDay) error {
	b := &pgx.Batch{}
	for _, d := range days {
		b.Queue(`INSERT INTO calendar (day, kind, name) VALUES ($1, $2, $3)
			ON CONFLICT (day) DO UPDATE SET kind = $2, name = $3`, d.Day, d.Kind, d.Name)
	}
	if err := db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("tenants: upsert calendar: %w", err)
	}
	return nil
}

// Calendar returns the exceptions between from and to, inclusive.
func (db *DB) Calendar(ctx context.Context, from, to time.Time) ([]CalendarDay, error) {
	rows, err := db.Pool.Query(ctx, "SELECT day, kind, name FROM calendar WHERE day BETWEEN $1 AND $2 ORDER BY day", from, to)
	return collect("calendar", rows, err, pgx.RowToStructByPos[CalendarDay])
}
