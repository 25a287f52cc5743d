package members

import (
	"context"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// exportEdge is one item of following.json, followers.json and
// blocks.json: the other member's public face, and since when.
type exportEdge struct {
	Member PublicRef `json:"member"`
	Since  time.Time `json:"since"`
}

// SocialExportSections are the files of a data export about what a member
// did to others, and others' public follows of them: whom they follow, who
// follows them (a list anyone may read), and whom they block. Who blocks
// them is another member's private choice and is not exported.
func (s *SQLStore) SocialExportSections() []Section {
	return []Section{
		{File: "following.json", About: "the members you follow, newest follow first", Items: s.exportEdges(followingList)},
		{File: "followers.json", About: "the members who follow you, newest follow first", Items: s.exportEdges(followersList)},
		{File: "blocks.json", About: "the members you block, newest block first", Items: s.exportEdges(blocksList)},
	}
}

// exportEdgePage is how many edges the export reads at a time: memory
// stays bounded whatever the member's numbers.
const exportEdgePage = 500

func (s *SQLStore) exportEdges(l edgeList) func(context.Context, rooms.UserID, Emit) error {
	return func(ctx context.Context, user rooms.UserID, emit Emit) error {
		var after Cursor
		for {
			es, err := s.edges(ctx, l, user, after, exportEdgePage)
			if err != nil {
				return err
			}
			for _, e := range es {
				ref := PublicRef{ID: e.Member.ID, Username: e.Member.Username, DisplayName: e.Member.DisplayName}
				if err := emit(exportEdge{Member: ref, Since: e.Since}); err != nil {
					return err
				}
			}
			if len(es) < exportEdgePage {
				return nil
			}
			last := es[len(es)-1]
			after = Cursor{At: last.Since, ID: string(last.Member.ID)}
		}
	}
}
