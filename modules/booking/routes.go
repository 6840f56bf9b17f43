package booking

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

type created[T any] struct {
	Status int
	Body   T
}

type slotsInput struct {
	modules.TenantPath
	Item uuid.UUID `path:"item" doc:"事项编号 (service item id)"`
	From string    `query:"from" required:"false" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"起始日期，缺省为今天 (first day, YYYY-MM-DD; today when absent)"`
	To   string    `query:"to" required:"false" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"截止日期（含），缺省为可预约的最后一天 (last day, inclusive; the last bookable day when absent)"`
}

type bookInput struct {
	modules.TenantPath
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"幂等键：同一键的重复请求只预约一次 (a repeated request with the same key books once)"`
	Body           NewAppointment
}

type appointmentPath struct {
	modules.TenantPath
	Appointment uuid.UUID `path:"appointment" doc:"预约编号 (appointment id)"`
}

type cancelInput struct {
	modules.TenantPath
	Appointment uuid.UUID `path:"appointment" doc:"预约编号 (appointment id)"`
	Body        struct {
		Reason string `json:"reason" minLength:"1" maxLength:"500" doc:"取消理由 (why)"`
	}
}

type listInput struct {
	modules.TenantPath
	AppointmentFilter
}

type rulePath struct {
	modules.TenantPath
	ID uuid.UUID `path:"id" doc:"业务部门或事项编号 (department or item id)"`
}

type ruleInput struct {
	modules.TenantPath
	ID   uuid.UUID `path:"id" doc:"业务部门或事项编号 (department or item id)"`
	Body Rule
}

type itemPath struct {
	modules.TenantPath
	Item uuid.UUID `path:"item" doc:"事项编号 (service item id)"`
}

type appealInput struct {
	modules.TenantPath
	Body NewAppeal
}

type appealsInput struct {
	modules.TenantPath
	AppealFilter
}

type decideInput struct {
	modules.TenantPath
	Appeal uuid.UUID `path:"appeal" doc:"申诉编号 (appeal id)"`
	Body   Decision
}

type listEntryInput struct {
	modules.TenantPath
	Citizen uuid.UUID `path:"citizen" doc:"居民编号 (citizen identity id)"`
	Body    struct {
		List string `json:"list" enum:"white,black" doc:"white 白名单, black 黑名单"`
		Note string `json:"note" required:"false" maxLength:"500" doc:"备注 (note)"`
	}
}

type citizenPath struct {
	modules.TenantPath
	Citizen uuid.UUID `path:"citizen" doc:"居民编号 (citizen identity id)"`
}

type standingInput struct {
	modules.TenantPath
}

// Pass is an appointment's check-in pass: the token its QR code carries.
type Pass struct {
	AppointmentID uuid.UUID `json:"appointment_id"`
	Token         string    `json:"token" doc:"预约二维码内容，取号终端扫码取号 (the QR code's content, scanned at the kiosk)"`
	ExpiresAt     time.Time `json:"expires_at"`
}

type meInput struct {
	Limit int `query:"limit" required:"false" minimum:"1" maximum:"200" default:"50" doc:"最多返回条数，最新的时段在前 (at most this many, newest slot first)"`
}

// citizenFrom is the citizen a request acts for; only a signed-in citizen
// books, cancels and appeals for themselves.
func citizenFrom(ctx context.Context) (Citizen, error) {
	s, ok := tenants.SubjectFrom(ctx)
	if !ok || s.Kind != tenants.SubjectCitizen || s.ID == uuid.Nil {
		return Citizen{}, problem.Forbidden("仅登录的居民本人可以操作自己的预约 (only a signed-in citizen acts on their own bookings)")
	}
	return Citizen{ID: s.ID, Name: s.Name, Phone: s.Phone, RealNameLevel: cmpOr(s.RealNameLevel, LevelNone)}, nil
}

// inTx and read give the value, not the body: handlers check it first.
func inTx[T any](ctx context.Context, m *Module, fn func(tx *tenants.Tx) (T, error)) (T, error) {
	return unwrap(modules.InTx(ctx, m.db, fn))
}

func read[T any](ctx context.Context, m *Module, fn func(q tenants.Querier) (T, error)) (T, error) {
	return unwrap(modules.Read(ctx, m.db, fn))
}

func unwrap[T any](b *modules.Body[T], err error) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return b.Body, nil
}

func wrap[T any](v T, err error) (*modules.Body[T], error) {
	if err != nil {
		return nil, err
	}
	return &modules.Body[T]{Body: v}, nil
}

// parseDays turns the slots query's dates into the instants they span.
func (m *Module) parseDays(in *slotsInput, loc *time.Location, now time.Time) (time.Time, time.Time, error) {
	from, to := dayStart(now, loc), time.Time{}
	var fields []problem.Field
	if in.From != "" {
		d, err := time.ParseInLocation(time.DateOnly, in.From, loc)
		if err != nil {
			fields = append(fields, problem.Field{Location: "query.from", Message: "日期无效 (not a date)", Value: in.From})
		}
		from = d
	}
	if in.To != "" {
		d, err := time.ParseInLocation(time.DateOnly, in.To, loc)
		if err != nil {
			fields = append(fields, problem.Field{Location: "query.to", Message: "日期无效 (not a date)", Value: in.To})
		}
		to = d.AddDate(0, 0, 1).Add(-time.Nanosecond)
	} else {
		to = from.AddDate(0, 0, 91).Add(-time.Nanosecond)
	}
	if len(fields) == 0 && to.Before(from) {
		fields = append(fields, problem.Field{Location: "query.to", Message: "截止日期早于起始日期 (before from)", Value: in.To})
	}
	if len(fields) == 0 && to.Sub(from) > MaxSlotDays*24*time.Hour {
		fields = append(fields, problem.Field{Location: "query.to", Message: "一次最多查询 92 天 (at most 92 days at once)", Value: in.To})
	}
	if len(fields) > 0 {
		return from, to, problem.Invalid(fields...)
	}
	return from, to, nil
}

// unmasked says whether the caller may see bookers' full phone numbers:
// a key scoped for it or staff holding booking:read_restricted.
func unmasked(ctx context.Context, q tenants.Querier) (bool, error) {
	s, _ := tenants.SubjectFrom(ctx)
	switch s.Kind {
	case tenants.SubjectTenantKey:
		return slices.ContainsFunc(s.Scopes, func(p string) bool { return p == "*" || p == "booking:*" || p == "booking:read_restricted" }), nil
	case tenants.SubjectMember:
		var ok bool
		err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM member_roles mr JOIN roles r ON r.id = mr.role_id
			WHERE mr.member_id = $1 AND r.permissions && ARRAY['*', 'booking:*', 'booking:read_restricted'])`, s.ID).Scan(&ok)
		return ok, err
	}
	return false, nil
}

// Routes implements modules.RouteProvider; the operations live under
// /v1/t/{tenant}/booking, GET /v1/me/appointments under /v1/me.
func (m *Module) Routes(r *modules.Router) {
	modules.Register(r.Public(), "public", huma.Operation{
		OperationID: "list-booking-slots", Method: http.MethodGet, Path: "/items/{item}/slots", Summary: "可预约时段 Bookable slots",
		Description: "The item's slots between from and to (dates in the jurisdiction's zone) inside its booking window, each with the places left. " +
			"Slots follow the hall's opening hours on the jurisdiction's working days (调休 included) when the item's rules say so.",
	}, func(ctx context.Context, in *slotsInput) (*modules.Body[ItemSlots], error) {
		cal := m.calendar(ctx)
		now := m.now()
		from, to, err := m.parseDays(in, cal.Location(), now)
		if err != nil {
			return nil, err
		}
		return wrap(read(ctx, m, func(q tenants.Querier) (ItemSlots, error) { return ListSlots(ctx, q, cal, in.Item, from, to, now) }))
	})
	modules.Register(r, ActionBook, huma.Operation{
		OperationID: "book-appointment", Method: http.MethodPost, Path: "/appointments", DefaultStatus: http.StatusCreated,
		Summary: "预约 Book a slot",
		Description: "A citizen books one slot of an item. 409 when the slot or the item's day is full, or the person's active-booking limit is reached; " +
			"403 when the person is barred, blacklisted, over today's cancellation limit or below the item's real-name level; " +
			"422 naming body.slot_start for a slot that is past, too soon, beyond the window or not a slot. With an Idempotency-Key a repeat answers with the first booking.",
	}, func(ctx context.Context, in *bookInput) (*created[Appointment], error) {
		c, err := citizenFrom(ctx)
		if err != nil {
			return nil, err
		}
		cal := m.calendar(ctx)
		a, err := inTx(ctx, m, func(tx *tenants.Tx) (Appointment, error) {
			return m.Book(ctx, tx, cal, c, in.Body, in.IdempotencyKey, m.now())
		})
		if err != nil {
			return nil, err
		}
		status := http.StatusCreated
		if a.Replayed {
			status = http.StatusOK
		}
		return &created[Appointment]{Status: status, Body: a}, nil
	})
	modules.Register(r, ActionCancel, huma.Operation{
		OperationID: "cancel-appointment", Method: http.MethodPost, Path: "/appointments/{appointment}/cancel",
		Summary:     "取消预约 Cancel a booking",
		Description: "The citizen cancels their booking with a reason, before the cancellation deadline; the booking is kept, cancelled.",
	}, func(ctx context.Context, in *cancelInput) (*modules.Body[Appointment], error) {
		c, err := citizenFrom(ctx)
		if err != nil {
			return nil, err
		}
		cal := m.calendar(ctx)
		return wrap(inTx(ctx, m, func(tx *tenants.Tx) (Appointment, error) {
			return m.Cancel(ctx, tx, cal, c.ID, in.Appointment, in.Body.Reason, m.now())
		}))
	})
	modules.Register(r, ActionOwn, modules.TenantWide(rowsOwn, huma.Operation{
		OperationID: "get-appointment-pass", Method: http.MethodGet, Path: "/appointments/{appointment}/pass",
		Summary:     "预约二维码 Check-in pass",
		Description: "The signed token of the citizen's booked appointment, for its QR code; valid until the slot ends plus the no-show grace.",
	}), func(ctx context.Context, in *appointmentPath) (*modules.Body[Pass], error) {
		c, err := citizenFrom(ctx)
		if err != nil {
			return nil, err
		}
		return wrap(read(ctx, m, func(q tenants.Querier) (Pass, error) { return m.PassFor(ctx, q, c.ID, in.Appointment) }))
	})
	modules.Register(r, ActionOwn, modules.TenantWide(rowsOwn, huma.Operation{
		OperationID: "get-booking-standing", Method: http.MethodGet, Path: "/standing", Summary: "我的预约资格 My booking standing",
		Description: "Whether the citizen may book here and, if not, why and until when; their no-shows, bars and appeals.",
	}), func(ctx context.Context, _ *standingInput) (*modules.Body[Standing], error) {
		c, err := citizenFrom(ctx)
		if err != nil {
			return nil, err
		}
		return wrap(read(ctx, m, func(q tenants.Querier) (Standing, error) { return GetStanding(ctx, q, c.ID, m.now()) }))
	})
	modules.Register(r, ActionAppeal, huma.Operation{
		OperationID: "file-booking-appeal", Method: http.MethodPost, Path: "/appeals", DefaultStatus: http.StatusCreated,
		Summary: "违约申诉 Appeal a bar",
	}, func(ctx context.Context, in *appealInput) (*modules.Body[Appeal], error) {
		c, err := citizenFrom(ctx)
		if err != nil {
			return nil, err
		}
		return wrap(inTx(ctx, m, func(tx *tenants.Tx) (Appeal, error) { return FileAppeal(ctx, tx, c.ID, in.Body, m.now()) }))
	})

	// staff
	modules.Register(r, "booking:read", modules.TenantWide(rowsAppointments, huma.Operation{
		OperationID: "list-appointments", Method: http.MethodGet, Path: "/appointments", Summary: "预约记录 Appointments",
		Description: "Appointments by slot, with attendance (履约情况). Phone digits 4–7 are masked unless the caller holds booking:read_restricted.",
	}), func(ctx context.Context, in *listInput) (*modules.Body[[]Appointment], error) {
		return wrap(read(ctx, m, func(q tenants.Querier) ([]Appointment, error) {
			full, err := unmasked(ctx, q)
			if err != nil {
				return nil, err
			}
			return ListAppointments(ctx, q, in.AppointmentFilter, full)
		}))
	})
	modules.Register(r, "booking:read", modules.TenantWide(rowsDiscipline, huma.Operation{
		OperationID: "get-citizen-booking-standing", Method: http.MethodGet, Path: "/citizens/{citizen}/standing", Summary: "居民预约资格 A citizen's standing",
	}), func(ctx context.Context, in *citizenPath) (*modules.Body[Standing], error) {
		return wrap(read(ctx, m, func(q tenants.Querier) (Standing, error) { return GetStanding(ctx, q, in.Citizen, m.now()) }))
	})
	modules.Register(r, "booking:read", modules.TenantWide(rowsRules, huma.Operation{
		OperationID: "list-booking-rules", Method: http.MethodGet, Path: "/rules", Summary: "预约规则 Booking rules",
	}), func(ctx context.Context, _ *modules.TenantPath) (*modules.Body[[]StoredRule], error) {
		return wrap(read(ctx, m, func(q tenants.Querier) ([]StoredRule, error) { return ListRules(ctx, q) }))
	})
	modules.Register(r, "booking:read", modules.TenantWide(rowsRules, huma.Operation{
		OperationID: "get-item-booking-rules", Method: http.MethodGet, Path: "/items/{item}/rules", Summary: "事项生效的预约规则 An item's rules in force",
	}), func(ctx context.Context, in *itemPath) (*modules.Body[Rules], error) {
		return wrap(read(ctx, m, func(q tenants.Querier) (Rules, error) {
			it, err := loadItem(ctx, q, in.Item)
			if errors.Is(err, errNoItem) {
				return Rules{}, problem.NotFound("没有这个事项 (no such item)")
			}
			return it.Rules, err
		}))
	})
	for _, target := range []RuleTarget{TargetDepartment, TargetItem} {
		path := "/rules/" + string(target) + "s/{id}"
		modules.Register(r, "booking:configure", huma.Operation{
			OperationID: "put-" + string(target) + "-booking-rule", Method: http.MethodPut, Path: path,
			Summary:     "设置预约规则 Set the booking rule of a " + string(target),
			Description: "Fields left out or null follow the layer below: an item's rule overrides its department's, which overrides the module settings.",
		}, func(ctx context.Context, in *ruleInput) (*modules.Body[StoredRule], error) {
			return wrap(inTx(ctx, m, func(tx *tenants.Tx) (StoredRule, error) { return PutRule(ctx, tx, target, in.ID, in.Body) }))
		})
		modules.Register(r, "booking:configure", huma.Operation{
			OperationID: "delete-" + string(target) + "-booking-rule", Method: http.MethodDelete, Path: path, DefaultStatus: http.StatusNoContent,
			Summary: "撤销预约规则 Remove the booking rule of a " + string(target),
		}, func(ctx context.Context, in *rulePath) (*modules.NoContent, error) {
			_, err := inTx(ctx, m, func(tx *tenants.Tx) (struct{}, error) { return struct{}{}, DeleteRule(ctx, tx, target, in.ID) })
			if err != nil {
				return nil, err
			}
			return &modules.NoContent{}, nil
		})
	}
	modules.Register(r, "booking:appeals", modules.TenantWide(rowsDiscipline, huma.Operation{
		OperationID: "list-booking-appeals", Method: http.MethodGet, Path: "/appeals", Summary: "违约申诉 Appeals",
	}), func(ctx context.Context, in *appealsInput) (*modules.Body[[]Appeal], error) {
		return wrap(read(ctx, m, func(q tenants.Querier) ([]Appeal, error) { return ListAppeals(ctx, q, in.AppealFilter) }))
	})
	modules.Register(r, "booking:appeals", huma.Operation{
		OperationID: "decide-booking-appeal", Method: http.MethodPost, Path: "/appeals/{appeal}/decide", Summary: "处理申诉 Decide an appeal",
		Description: "Upheld, the bar is lifted and its no-shows voided; rejected, the bar stands. 409 when already decided.",
	}, func(ctx context.Context, in *decideInput) (*modules.Body[Appeal], error) {
		return wrap(inTx(ctx, m, func(tx *tenants.Tx) (Appeal, error) { return DecideAppeal(ctx, tx, in.Appeal, in.Body, m.now()) }))
	})
	modules.Register(r, "booking:blacklist", modules.TenantWide(rowsDiscipline, huma.Operation{
		OperationID: "list-booking-lists", Method: http.MethodGet, Path: "/lists", Summary: "黑白名单 Black and white lists",
	}), func(ctx context.Context, _ *modules.TenantPath) (*modules.Body[[]ListEntry], error) {
		return wrap(read(ctx, m, func(q tenants.Querier) ([]ListEntry, error) { return ListListEntries(ctx, q) }))
	})
	modules.Register(r, "booking:blacklist", huma.Operation{
		OperationID: "put-booking-list-entry", Method: http.MethodPut, Path: "/lists/{citizen}", Summary: "列入黑白名单 Put a citizen on a list",
		Description: "white: never barred for no-shows; black: cannot book until taken off.",
	}, func(ctx context.Context, in *listEntryInput) (*modules.Body[ListEntry], error) {
		return wrap(inTx(ctx, m, func(tx *tenants.Tx) (ListEntry, error) {
			return PutListEntry(ctx, tx, ListEntry{CitizenID: in.Citizen, List: in.Body.List, Note: in.Body.Note})
		}))
	})
	modules.Register(r, "booking:blacklist", huma.Operation{
		OperationID: "delete-booking-list-entry", Method: http.MethodDelete, Path: "/lists/{citizen}", DefaultStatus: http.StatusNoContent,
		Summary: "移出黑白名单 Take a citizen off the lists",
	}, func(ctx context.Context, in *citizenPath) (*modules.NoContent, error) {
		_, err := inTx(ctx, m, func(tx *tenants.Tx) (struct{}, error) { return struct{}{}, DeleteListEntry(ctx, tx, in.Citizen) })
		if err != nil {
			return nil, err
		}
		return &modules.NoContent{}, nil
	})

	modules.Register(r.Me(), ActionOwn, huma.Operation{
		OperationID: "list-my-appointments", Method: http.MethodGet, Path: "/appointments", Summary: "我的预约 My appointments",
		Description: "The signed-in citizen's appointments in every hall of the jurisdiction that has booking enabled, newest slot first.",
	}, func(ctx context.Context, in *meInput) (*modules.Body[[]Appointment], error) {
		c, err := citizenFrom(ctx)
		if err != nil {
			return nil, err
		}
		return wrap(m.ListMine(ctx, c.ID, cmpInt(in.Limit, 50)))
	})
}

// ListMine returns the citizen's newest appointments, at most limit,
// across the jurisdiction's active tenants with booking enabled. Each
// tenant's appointments are behind its own row level security, so each is
// asked in turn, for at most limit rows.
func (m *Module) ListMine(ctx context.Context, citizen uuid.UUID, limit int) ([]Appointment, error) {
	subject := (tenants.Subject{Kind: tenants.SubjectCitizen, ID: citizen}).String()
	out := []Appointment{}
	after := ""
	for {
		ts, err := m.db.ListTenants(ctx, tenants.TenantFilter{Status: string(tenants.StatusActive), After: after, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			r, err := m.db.Reader(t.ID, subject)
			if err != nil {
				return nil, err
			}
			as, err := ListOwn(ctx, r, citizen, limit)
			if err != nil {
				return nil, err
			}
			out = append(out, as...)
		}
		if len(ts) < 500 {
			break
		}
		after = ts[len(ts)-1].Slug
	}
	slices.SortFunc(out, func(a, b Appointment) int { return b.SlotStart.Compare(a.SlotStart) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
