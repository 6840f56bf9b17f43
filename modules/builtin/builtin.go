// Package builtin lists the modules this build of Yamen offers.
package builtin

import (
	"yamen/modules"
	"yamen/modules/approvals"
	"yamen/modules/booking"
	"yamen/modules/campaigns"
	"yamen/modules/catalog"
	"yamen/modules/clues"
	"yamen/modules/credit"
	"yamen/modules/creditscore"
	"yamen/modules/files"
	"yamen/modules/guards"
	"yamen/modules/hazards"
	"yamen/modules/incidents"
	"yamen/modules/intermediaries"
	"yamen/modules/messages"
	"yamen/modules/oneflow"
	"yamen/modules/permits"
	"yamen/modules/queue"
	"yamen/modules/ratings"
	"yamen/modules/reports"
	"yamen/modules/tasks"
	"yamen/modules/units"
	"yamen/modules/watch"
)

// Registry returns the registry of every built-in module.
func Registry() (*modules.Registry, error) {
	return modules.NewRegistry(Modules()...)
}

// Modules returns every built-in module, in the order tenant admins see them:
// the shared modules first, then each kind's bundle.
func Modules() []modules.Module {
	// Booking and ratings send their reminders and notices through the one
	// message centre, not an instance of their own.
	msgs := messages.New()
	return []modules.Module{
		// every tenant
		files.New(),
		msgs,
		approvals.New(),
		tasks.New(),
		reports.New(),
		// affairs_hall
		catalog.New(),
		booking.New(msgs),
		queue.New(),
		ratings.New(ratings.WithMessages(msgs)),
		oneflow.New(),
		intermediaries.New(),
		// credit_center
		credit.New(),
		creditscore.New(),
		// police_bureau
		units.New(),
		clues.New(),
		permits.New(),
		watch.New(),
		campaigns.New(),
		incidents.New(),
		guards.New(),
		hazards.New(),
	}
}
