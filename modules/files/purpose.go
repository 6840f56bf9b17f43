package files

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"yamen/modules"
)

// Purpose is what a file is for, and the limits that come with it: the
// content types it accepts (decided by sniffing the content, never by the
// name), its largest size, and how long a deleted file's object is kept
// before it is removed from storage.
type Purpose struct {
	// Name is how modules and clients refer to it: photo, contract, or
	// <module>:<what> for a module's own (clues:evidence).
	Name  string       `json:"name"`
	Title modules.Text `json:"title"`
	// Types are the content types accepted, as http.DetectContentType
	// names them (image/jpeg, image/png, application/pdf).
	Types []string `json:"types"`
	// MaxBytes is the largest file accepted.
	MaxBytes int64 `json:"max_bytes"`
	// Retention is how long a deleted file stays in storage before the
	// sweep removes it, so a mistaken deletion can be looked into.
	Retention time.Duration `json:"-"`
	// RetentionDays is Retention for clients.
	RetentionDays int `json:"retention_days"`
}

// PurposeProvider is implemented by modules whose files need purposes of
// their own. Module.Adopt collects them; builtin lists the modules.
type PurposeProvider interface {
	FilePurposes() []Purpose
}

const (
	mib = 1 << 20
	day = 24 * time.Hour
)

// Purposes every tenant has, from the procurement seeds. This is the place
// the shared purposes grow; a module with files of its own declares them
// through PurposeProvider instead.
func builtinPurposes() []Purpose {
	images := []string{"image/jpeg", "image/png"}
	pdfOrImages := []string{"application/pdf", "image/jpeg", "image/png"}
	return []Purpose{
		{
			// Seed 000: photos of propaganda activities and inspections.
			Name: "photo", Title: modules.Text{ZH: "照片", EN: "Photo"},
			Types: images, MaxBytes: 10 * mib, Retention: 30 * day,
		},
		{
			// Seed 004: contract scans of intermediary projects.
			Name: "contract", Title: modules.Text{ZH: "合同扫描件", EN: "Contract scan"},
			Types: []string{"application/pdf"}, MaxBytes: 50 * mib, Retention: 180 * day,
		},
		{
			// Seed 003: licence materials (居住证 and other permits).
			Name: "licence_material", Title: modules.Text{ZH: "证照材料", EN: "Licence material"},
			Types: pdfOrImages, MaxBytes: 20 * mib, Retention: 90 * day,
		},
		{
			// Seed 004: service results delivered by intermediaries.
			Name: "service_result", Title: modules.Text{ZH: "服务成果", EN: "Service result"},
			Types: pdfOrImages, MaxBytes: 50 * mib, Retention: 180 * day,
		},
	}
}

var purposeName = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}(:[a-z][a-z0-9_]{1,39})?$`)

// check reports what is wrong with a purpose's declaration.
func (p Purpose) check() error {
	var errs []string
	if !purposeName.MatchString(p.Name) {
		errs = append(errs, fmt.Sprintf("name %q: want %s", p.Name, purposeName))
	}
	if p.Title.ZH == "" || p.Title.EN == "" {
		errs = append(errs, "needs a zh-CN and an en title")
	}
	if len(p.Types) == 0 {
		errs = append(errs, "accepts no content type")
	}
	for _, t := range p.Types {
		if t == "" || strings.ContainsAny(t, "; ") || !strings.Contains(t, "/") {
			errs = append(errs, fmt.Sprintf("content type %q: want a bare media type such as image/png", t))
		}
	}
	if p.MaxBytes <= 0 {
		errs = append(errs, "max bytes must be positive")
	}
	if p.Retention < 0 {
		errs = append(errs, "retention must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("file purpose %s: %s", p.Name, strings.Join(errs, "; "))
	}
	return nil
}

func (p Purpose) accepts(contentType string) bool { return slices.Contains(p.Types, contentType) }

func (p Purpose) typesText() string { return strings.Join(p.Types, "、") }

// purposeSet is the checked purposes a module instance knows, by name.
type purposeSet struct {
	byName map[string]Purpose
	order  []string
}

func newPurposeSet(ps []Purpose) (purposeSet, error) {
	s := purposeSet{byName: map[string]Purpose{}}
	for _, p := range ps {
		if err := s.add(p); err != nil {
			return purposeSet{}, err
		}
	}
	return s, nil
}

func (s *purposeSet) add(p Purpose) error {
	if err := p.check(); err != nil {
		return err
	}
	if _, dup := s.byName[p.Name]; dup {
		return fmt.Errorf("file purpose %s: declared twice", p.Name)
	}
	p.Types = slices.Clone(p.Types)
	p.RetentionDays = int(p.Retention / day)
	s.byName[p.Name] = p
	s.order = append(s.order, p.Name)
	return nil
}

func (s purposeSet) get(name string) (Purpose, bool) {
	p, ok := s.byName[name]
	return p, ok
}

func (s purposeSet) all() []Purpose {
	out := make([]Purpose, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.byName[n])
	}
	return out
}

func (s purposeSet) names() []string { return slices.Clone(s.order) }
