package policy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/tester"
)

// A tenant's own rego adds to the base policy: deny rules (with the reason
// as the value) and fields to mask. It cannot grant: what roles and keys do
// not allow stays refused.
const maxTenantSource = 64 << 10

// TenantPackage is the package a tenant's rego must declare.
func TenantPackage(slug string) string {
	return "yamen.tenant." + strings.ReplaceAll(slug, "-", "_")
}

// UploadError is a tenant upload that does not parse, compile or pass its
// own tests. Messages say where, as the compiler does.
type UploadError struct {
	Messages []string
}

func (e *UploadError) Error() string { return "policy: " + strings.Join(e.Messages, "; ") }

// TestReport is the outcome of an upload's own tests.
type TestReport struct {
	Passed int      `json:"passed"`
	Failed []string `json:"failed,omitempty"`
}

// capabilities are the builtins a tenant's rego may call: none that reach
// the network or the host.
func capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	banned := map[string]bool{"http.send": true, "net.lookup_ip_addr": true, "opa.runtime": true, "trace": true}
	kept := caps.Builtins[:0]
	for _, b := range caps.Builtins {
		if !banned[b.Name] {
			kept = append(kept, b)
		}
	}
	caps.Builtins = kept
	return caps
}

var testName = regexp.MustCompile(`^test_`)

// CheckTenant parses and compiles a tenant's rego with the base policy and
// runs the tests it carries; it must carry at least one, and all must pass.
func CheckTenant(ctx context.Context, slug, source string) (TestReport, error) {
	mods, err := tenantModules(slug, source)
	if err != nil {
		return TestReport{}, err
	}
	compiler := ast.NewCompiler().WithCapabilities(capabilities()).WithEnablePrintStatements(false)
	if compiler.Compile(mods); compiler.Failed() {
		return TestReport{}, &UploadError{Messages: messages(compiler.Errors)}
	}
	tests := 0
	for _, r := range mods["tenant.rego"].Rules {
		if testName.MatchString(r.Head.Name.String()) {
			tests++
		}
	}
	if tests == 0 {
		return TestReport{}, &UploadError{Messages: []string{"须附带至少一条测试规则 test_… (the upload must carry at least one test_ rule)"}}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ch, err := tester.NewRunner().SetCompiler(compiler).SetTimeout(time.Second).
		Filter("^data\\."+regexp.QuoteMeta(TenantPackage(slug))+"\\.test_").Run(ctx, mods)
	if err != nil {
		return TestReport{}, &UploadError{Messages: []string{"测试无法运行 (tests could not run): " + err.Error()}}
	}
	var rep TestReport
	for r := range ch {
		if r.Pass() {
			rep.Passed++
			continue
		}
		msg := r.Name
		if r.Error != nil {
			msg += ": " + r.Error.Error()
		}
		rep.Failed = append(rep.Failed, msg)
	}
	if len(rep.Failed) > 0 {
		return rep, &UploadError{Messages: append([]string{"测试未通过 (tests failed)"}, rep.Failed...)}
	}
	return rep, nil
}

func tenantModules(slug, source string) (map[string]*ast.Module, error) {
	if len(source) > maxTenantSource {
		return nil, &UploadError{Messages: []string{fmt.Sprintf("超过 %d 字节 (larger than %d bytes)", maxTenantSource, maxTenantSource)}}
	}
	mod, err := ast.ParseModuleWithOpts("tenant.rego", source, ast.ParserOptions{RegoVersion: ast.RegoV1, Capabilities: capabilities()})
	if err != nil {
		var errs ast.Errors
		if errors.As(err, &errs) {
			return nil, &UploadError{Messages: messages(errs)}
		}
		return nil, &UploadError{Messages: []string{err.Error()}}
	}
	if mod == nil {
		return nil, &UploadError{Messages: []string{"内容为空 (empty module)"}}
	}
	want := "data." + TenantPackage(slug)
	if got := mod.Package.Path.String(); got != want {
		return nil, &UploadError{Messages: []string{fmt.Sprintf("包名须为 %s，而不是 %s (the package must be %s)", strings.TrimPrefix(want, "data."), strings.TrimPrefix(got, "data."), strings.TrimPrefix(want, "data."))}}
	}
	mods := map[string]*ast.Module{"tenant.rego": mod}
	for name, src := range baseSources() {
		m, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("policy: base %s: %w", name, err)
		}
		mods[name] = m
	}
	return mods, nil
}

func messages(errs ast.Errors) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := e.Message
		if e.Location != nil {
			msg = fmt.Sprintf("%d:%d: %s", e.Location.Row, e.Location.Col, msg)
		}
		out = append(out, msg)
	}
	return out
}

// WithTenant returns an engine deciding with the base policy and the
// tenant's rego, which CheckTenant has accepted.
func (e *Engine) WithTenant(ctx context.Context, slug, source string) (*Engine, error) {
	if _, err := tenantModules(slug, source); err != nil {
		return nil, err
	}
	// The modules' rego stays: what citizens may do in a module does not
	// depend on whether the tenant has rego of its own.
	return compile(ctx, e.modules, rego.Module("tenant.rego", source), rego.Capabilities(capabilities()))
}
