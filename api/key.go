package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

type KeyPath struct {
	TenantPath
	Key uuid.UUID `path:"key"`
}

type createKeyInput struct {
	TenantPath
	Body struct {
		Name      string   `json:"name" minLength:"1" maxLength:"100" example:"省好差评平台对接"`
		Scopes    []string `json:"scopes" minItems:"1" maxItems:"200" doc:"密钥可执行的操作，如 orgs:read；* 为全部 (actions the key may perform, e.g. orgs:read; * for all)"`
		ExpiresIn string   `json:"expires_in,omitempty" pattern:"^[0-9]+h$" doc:"有效期，如 720h；缺省为永久 (lifetime such as 720h; none when absent)"`
	}
}

// CreatedKey is a new key with the only copy of its secret.
type CreatedKey struct {
	tenants.KeyInfo
	Key string `json:"key" doc:"完整密钥，只显示这一次 (the whole key, shown this once only)"`
}

func (s *Server) registerKeys(r *modules.Router) {
	modules.Register(r, "keys:manage", modules.TenantWide(rowsConfiguration, huma.Operation{
		OperationID: "list-keys", Method: http.MethodGet, Path: "/keys", Summary: "接口密钥 API keys",
	}), func(ctx context.Context, _ *TenantPath) (*Body[[]tenants.KeyInfo], error) {
		return inTenantRead(s, ctx, func(tx tenants.Querier) ([]tenants.KeyInfo, error) {
			ks, err := tenants.ListTenantKeys(ctx, tx)
			return nonNil(ks), err
		})
	})
	modules.Register(r, "keys:manage", huma.Operation{
		OperationID: "create-key", Method: http.MethodPost, Path: "/keys", DefaultStatus: http.StatusCreated, Summary: "新建接口密钥 Create an API key",
	}, func(ctx context.Context, in *createKeyInput) (*Body[CreatedKey], error) {
		if err := s.checkPermissions("body.scopes", in.Body.Scopes); err != nil {
			return nil, err
		}
		if err := s.access.checkGrant(ctx, "keys:manage", in.Body.Scopes); err != nil {
			return nil, err
		}
		var ttl time.Duration
		if in.Body.ExpiresIn != "" {
			d, err := time.ParseDuration(in.Body.ExpiresIn)
			if err != nil || d <= 0 {
				return nil, problem.InvalidField("body.expires_in", "有效期无效 (invalid lifetime)", in.Body.ExpiresIn)
			}
			ttl = d
		}
		return inTenant(s, ctx, func(tx *tenants.Tx) (CreatedKey, error) {
			k, secret, err := tenants.CreateTenantKey(ctx, tx, tenants.NewKey{Name: in.Body.Name, Scopes: in.Body.Scopes, TTL: ttl})
			return CreatedKey{KeyInfo: k, Key: secret}, err
		})
	})
	modules.Register(r, "keys:manage", huma.Operation{
		OperationID: "revoke-key", Method: http.MethodDelete, Path: "/keys/{key}", DefaultStatus: http.StatusNoContent, Summary: "吊销接口密钥 Revoke an API key",
	}, func(ctx context.Context, in *KeyPath) (*NoContent, error) {
		out, err := noContent(s, ctx, func(tx *tenants.Tx) error { return tenants.RevokeTenantKey(ctx, tx, in.Key) })
		if err == nil {
			s.access.keyRevoked(in.Key)
		}
		return out, err
	})
}
