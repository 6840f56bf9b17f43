package portal

import (
	"net/http"

	"github.com/google/uuid"

	"yamen/modules/catalog"
	"yamen/modules/queue"
)

// The display board (叫号屏) is the page on the hall's TV: the numbers being
// served and where, the latest first, and how many wait per item. It is
// public, like the API's board stream it follows: board.js listens to the
// stream (same origin, so CSP connect-src 'self' admits it) and puts each
// call on top. Without the script the page shows the calls as they stood
// when it was loaded.

// boardCalls is how many calls a board shows.
const boardCalls = 8

type boardHallsPage struct {
	Halls []catalog.Hall
}

// boardHalls lists the halls, to open one's board.
func (p *Portal) boardHalls(v *view) error {
	halls, err := v.activeHalls()
	if err != nil {
		return err
	}
	v.render(http.StatusOK, "board_halls", v.t("board.halls"), boardHallsPage{Halls: halls})
	return nil
}

type boardPage struct {
	Hall    catalog.Hall
	Calls   []queue.Ticket
	Waiting []queue.Waiting
	Stream  string
	Max     int
}

// showBoard is one hall's board.
func (p *Portal) showBoard(v *view) error {
	hall, err := uuid.Parse(v.r.PathValue("hall"))
	if err != nil {
		return errNotFound
	}
	r, err := v.reader()
	if err != nil {
		return err
	}
	pg := boardPage{Max: boardCalls, Stream: "/v1/t/" + v.tenant.Slug + "/queue/halls/" + hall.String() + "/board/stream"}
	if pg.Hall, err = catalog.GetHall(v.ctx, r, hall); err != nil {
		return err
	}
	if !pg.Hall.Active {
		return errNotFound
	}
	if pg.Calls, err = queue.LatestCalls(v.ctx, r, hall, boardCalls); err != nil {
		return err
	}
	if pg.Waiting, err = queue.WaitingCounts(v.ctx, r, hall); err != nil {
		return err
	}
	v.render(http.StatusOK, "board", v.t("board.title", pg.Hall.Name), pg)
	return nil
}
