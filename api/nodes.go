package api

import (
	"context"
	"net/http"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// NodeLister lists the nodes of a cluster, for GET /api/v1/nodes.
type NodeLister interface {
	Nodes(ctx context.Context) ([]rooms.Node, error)
}

// nodeJSON is one node in GET /api/v1/nodes.
type nodeJSON struct {
	ID           rooms.NodeID `json:"id"`
	URL          string       `json:"url"`
	Draining     bool         `json:"draining"`
	Capacity     int          `json:"capacity"`
	CPU          float64      `json:"cpu"`
	Participants int          `json:"participants"`
	PPS          float64      `json:"pps"`
	StartedAt    time.Time    `json:"started_at"`
	SeenAt       time.Time    `json:"seen_at"`
}

type nodeList struct {
	Nodes []nodeJSON `json:"nodes"`
}

// nodes answers GET /api/v1/nodes: the live nodes of the cluster and
// their loads, as their last heartbeats said.
func (s *server) nodes(lister NodeLister) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ns, err := lister.Nodes(r.Context())
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		out := nodeList{Nodes: make([]nodeJSON, 0, len(ns))}
		for _, n := range ns {
			out.Nodes = append(out.Nodes, nodeJSON{
				ID: n.ID, URL: n.URL, Draining: n.Draining, Capacity: n.Capacity,
				CPU: n.Load.CPU, Participants: n.Load.Participants, PPS: n.Load.PPS,
				StartedAt: n.Started.UTC(), SeenAt: n.Seen.UTC(),
			})
		}
		writeJSON(w, http.StatusOK, out)
	}
}
