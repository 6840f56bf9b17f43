package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

// DeadTask is a task of the worker that failed its last retry, or could not
// be retried, and is kept until a platform admin retries or deletes it. Its
// payload is the tenant's data and is not shown.
type DeadTask struct {
	ID    string `json:"id"`
	Queue string `json:"queue"`
	Type  string `json:"type" doc:"<模块>:<任务> (<module>:<task>)"`
	// TenantID is nil when the payload names no tenant (which is why such a
	// task died at once).
	TenantID     *uuid.UUID `json:"tenant_id"`
	Tenant       string     `json:"tenant" doc:"租户短名 (tenant slug); empty when unknown"`
	Retried      int        `json:"retried" doc:"已重试次数 (retries made)"`
	MaxRetry     int        `json:"max_retry"`
	LastError    string     `json:"last_error"`
	LastFailedAt *time.Time `json:"last_failed_at"`
}

type listDeadTasksInput struct {
	Queue string `query:"queue" maxLength:"100" doc:"只看一个队列；缺省为全部 (one queue only; all by default)"`
	Page  int    `query:"page" minimum:"1" default:"1" doc:"页码，从 1 开始 (page, from 1)"`
	Limit int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

type deadTaskPath struct {
	ID string `path:"id" maxLength:"100" doc:"任务编号 (task id)"`
}

// taskAdmin answers the dead-task operations from asynq's archive.
type taskAdmin struct {
	s         *Server
	inspector *asynq.Inspector
	queues    []string
}

// registerPlatformTasks adds the operations on dead tasks. Without an
// inspector they answer 503, so the document stays the same.
func (s *Server) registerPlatformTasks(r *modules.Router, inspector *asynq.Inspector, queues []string) {
	if len(queues) == 0 {
		queues = tenants.Queues
	}
	a := &taskAdmin{s: s, inspector: inspector, queues: queues}
	const action = "platform:manage"
	modules.Register(r, action, huma.Operation{
		OperationID: "platform-list-dead-tasks", Method: http.MethodGet, Path: "/tasks/dead",
		Summary:     "失败任务列表 List dead tasks",
		Description: "Tasks that failed their last retry, oldest first, queue by queue. They stay until retried or deleted (asynq keeps at most 10,000 per queue, for 90 days).",
	}, func(ctx context.Context, in *listDeadTasksInput) (*Body[[]DeadTask], error) {
		queues := a.queues
		if in.Queue != "" {
			if !slices.Contains(queues, in.Queue) {
				return nil, problem.InvalidField("query.queue", "没有这个队列 (no such queue)", in.Queue)
			}
			queues = []string{in.Queue}
		}
		out, err := a.list(ctx, queues, (in.Page-1)*in.Limit, in.Limit)
		if err != nil {
			return nil, err
		}
		return &Body[[]DeadTask]{nonNil(out)}, nil
	})

	modules.Register(r, action, huma.Operation{
		OperationID: "platform-retry-dead-task", Method: http.MethodPost, Path: "/tasks/dead/{id}/retry",
		DefaultStatus: http.StatusNoContent, Summary: "重试失败任务 Retry a dead task",
		Description: "Puts the task back in its queue to run once more, now. It keeps its count of retries, so if it fails again it is dead again at once. Audited in the task's tenant.",
	}, func(ctx context.Context, in *deadTaskPath) (*NoContent, error) {
		return a.act(ctx, in.ID, "task.retry", func(q, id string) error { return a.inspector.RunTask(q, id) })
	})

	modules.Register(r, action, huma.Operation{
		OperationID: "platform-delete-dead-task", Method: http.MethodDelete, Path: "/tasks/dead/{id}",
		DefaultStatus: http.StatusNoContent, Summary: "删除失败任务 Delete a dead task",
		Description: "Audited in the task's tenant.",
	}, func(ctx context.Context, in *deadTaskPath) (*NoContent, error) {
		return a.act(ctx, in.ID, "task.delete", func(q, id string) error { return a.inspector.DeleteTask(q, id) })
	})
}

// list returns up to limit dead tasks after skipping offset, reading the
// queues one after the other as if they were one list.
func (a *taskAdmin) list(ctx context.Context, queues []string, offset, limit int) ([]DeadTask, error) {
	if a.inspector == nil {
		return nil, noQueue(nil)
	}
	var out []DeadTask
	slugs := map[uuid.UUID]string{}
	for _, q := range queues {
		// asynq pages by page number; one page as long as what is needed
		// from this queue, sliced, reads the same tasks.
		infos, err := a.inspector.ListArchivedTasks(q, asynq.PageSize(offset+limit-len(out)), asynq.Page(1))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue // nothing was ever queued there
		}
		if err != nil {
			return nil, noQueue(err)
		}
		if offset >= len(infos) {
			offset -= len(infos)
			continue
		}
		for _, info := range infos[offset:] {
			out = append(out, a.deadTask(ctx, info, slugs))
		}
		offset = 0
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}

func (a *taskAdmin) deadTask(ctx context.Context, info *asynq.TaskInfo, slugs map[uuid.UUID]string) DeadTask {
	d := DeadTask{ID: info.ID, Queue: info.Queue, Type: info.Type, Retried: info.Retried, MaxRetry: info.MaxRetry, LastError: info.LastErr}
	if !info.LastFailedAt.IsZero() {
		d.LastFailedAt = &info.LastFailedAt
	}
	if id, ok := tenantOf(info.Payload); ok {
		d.TenantID = &id
		slug, seen := slugs[id]
		if !seen {
			if t, err := a.s.db.TenantByID(ctx, id); err == nil {
				slug = t.Slug
			}
			slugs[id] = slug
		}
		d.Tenant = slug
	}
	return d
}

// act finds the dead task id and does op to it, recording action in the
// audit log of the task's tenant: the change and its record commit together.
func (a *taskAdmin) act(ctx context.Context, id, action string, op func(queue, id string) error) (*NoContent, error) {
	if a.inspector == nil {
		return nil, noQueue(nil)
	}
	info, err := a.find(id)
	if err != nil {
		return nil, err
	}
	do := func() error {
		if err := op(info.Queue, info.ID); err != nil {
			if errors.Is(err, asynq.ErrTaskNotFound) {
				return problem.NotFound("没有这个失败任务 (no such dead task)")
			}
			return noQueue(err)
		}
		return nil
	}
	tenant, ok := tenantOf(info.Payload)
	if !ok {
		return &NoContent{}, do()
	}
	subject, _ := tenants.SubjectFrom(ctx)
	err = a.s.db.Tx(ctx, tenant, subject.String(), func(tx *tenants.Tx) error {
		if err := tenants.Audit(ctx, tx, action, info.ID, map[string]any{"type": info.Type, "queue": info.Queue, "last_error": info.LastErr}); err != nil {
			return err
		}
		return do()
	})
	if err != nil {
		return nil, err
	}
	return &NoContent{}, nil
}

// find looks for a dead task by id in every queue.
func (a *taskAdmin) find(id string) (*asynq.TaskInfo, error) {
	for _, q := range a.queues {
		info, err := a.inspector.GetTaskInfo(q, id)
		if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		if err != nil {
			return nil, noQueue(err)
		}
		if info.State != asynq.TaskStateArchived {
			return nil, problem.Conflict("任务未失败，状态为 " + info.State.String() + " (the task is not dead; it is " + info.State.String() + ")")
		}
		return info, nil
	}
	return nil, problem.NotFound("没有这个失败任务 (no such dead task)")
}

// tenantOf reads the tenant from a task's envelope (worker.TenantOf, which
// api does not import: the worker runs tasks, the API only looks at them).
func tenantOf(payload []byte) (uuid.UUID, bool) {
	var env struct {
		Tenant uuid.UUID `json:"tenant"`
	}
	if json.Unmarshal(payload, &env) != nil || env.Tenant == uuid.Nil {
		return uuid.Nil, false
	}
	return env.Tenant, true
}

func noQueue(err error) error {
	return huma.Error503ServiceUnavailable("任务队列不可用 (the task queue is unavailable)", err)
}
