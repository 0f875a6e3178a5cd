package engine

import (
	"context"
	"sync"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
)

// Packing bounds: a packer sends at most packFiles files or packBytes bytes per
// UploadContents call, and waits at most packWait after the first file for more. A pack
// of packFiles usually fits one append_batch request (its entries travel in an 8 KiB
// header), so a pack is about one request, and packers × packBytes bounds the memory of
// the small files out with Dropbox.
const (
	packFiles = 64
	packBytes = 4 << 20
	packWait  = 20 * time.Millisecond
)

// contentUploader sends the contents of many small files in closed upload sessions.
type contentUploader interface {
	UploadContents(ctx context.Context, datas [][]byte) ([]dropbox.UploadResult, error)
}

// packer gathers small files from the workers and uploads their contents together (an
// append_batch request for a whole pack instead of one request per file), then hands them
// to the committer. At real latencies this, not bandwidth, is what bounds the initial copy
// of thousands of invoices. As many packers run as the connection's uploads at once, so
// that many requests are in flight; they gather one at a time (gathering), so a pack takes
// all that arrives while it gathers, and is not split thin between packers waiting for work.
type packer struct {
	remote    contentUploader
	now       func() time.Time
	gathering *sync.Mutex
	in        <-chan upload
	commits   chan<- commit
	decided   chan<- outcome
}

func (p packer) serve(ctx context.Context) error {
	for {
		p.gathering.Lock()
		pack, ok := p.gather(ctx)
		p.gathering.Unlock()
		if !ok {
			return nil
		}
		commits, outcomes := p.upload(ctx, pack)
		for _, c := range commits {
			if !send(ctx, p.commits, c) {
				return nil
			}
		}
		for _, o := range outcomes {
			if !send(ctx, p.decided, o) {
				return nil
			}
		}
	}
}

// gather waits for a first upload, then takes more until the pack is full, packWait has
// passed, or an urgent document (one saved while the app runs) is in it, which goes at once.
func (p packer) gather(ctx context.Context) ([]upload, bool) {
	var pack []upload
	select {
	case <-ctx.Done():
		return nil, false
	case first := <-p.in:
		pack = append(pack, first)
	}
	size := len(pack[0].data)
	timer := time.NewTimer(packWait)
	defer timer.Stop()
	for !pack[len(pack)-1].urgent && len(pack) < packFiles && size < packBytes {
		select {
		case <-ctx.Done():
			return nil, false
		case next := <-p.in:
			pack = append(pack, next)
			size += len(next.data)
		case <-timer.C:
			return pack, true
		}
	}
	return pack, true
}

// upload sends a pack: each file comes back ready to commit, or with its outcome.
func (p packer) upload(ctx context.Context, pack []upload) (commits []commit, outcomes []outcome) {
	datas := make([][]byte, len(pack))
	for i, u := range pack {
		datas[i] = u.data
	}
	res, err := p.remote.UploadContents(ctx, datas)
	if ctx.Err() != nil {
		return nil, nil // stopping: the files stay queued as they were
	}
	for i, u := range pack {
		e := err
		if e == nil {
			e = res[i].Err
		}
		if e != nil {
			outcomes = append(outcomes, failed(p.now(), u.job, u.rec, e))
			continue
		}
		c := u.commit // the content is at Dropbox now; the data is let go with the upload
		c.c.SessionID = res[i].SessionID
		commits = append(commits, c)
	}
	return commits, outcomes
}
