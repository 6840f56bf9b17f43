package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"yamen/tenants"
)

// The channels the migrations' triggers notify; the payload is a tenant id.
const (
	// outboxChannel: the tenant committed outbox rows.
	outboxChannel = "yamen_outbox"
	// modulesChannel: the tenant's modules or status changed.
	modulesChannel = "yamen_modules"
)

// listener holds one connection that LISTENs on the worker's channels and
// passes each notification's payload to its channel's function.
type listener struct {
	db       *tenants.DB
	log      *slog.Logger
	retry    time.Duration
	channels map[string]func(payload string)
	// connected runs once the connection listens, the first time and after
	// every reconnection: notifications sent meanwhile are lost.
	connected func()
}

// run listens until ctx ends, reconnecting when the connection breaks.
func (l *listener) run(ctx context.Context) {
	for {
		err := l.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("listening for notifications failed; reconnecting", "error", err, "in", l.retry)
		select {
		case <-ctx.Done():
			return
		case <-time.After(l.retry):
		}
	}
}

func (l *listener) listen(ctx context.Context) error {
	pc, err := l.db.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire: %w", err)
	}
	// Taken out of the pool for good: a connection that LISTENs must not
	// serve anyone else.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	for ch := range l.channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	l.connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if f := l.channels[n.Channel]; f != nil {
			f(n.Payload)
		}
	}
}
